import Warren

/// The `warren` executable's entry point: runs ``WarrenCommand`` while the main thread waits
/// (``MainThread``), so that the fully static deployment build does not pay for unwinding an exiting main
/// thread at every start.
@main
enum EntryPoint {
    static func main() {
        // WarrenCommand.main() reports its own errors and exits with their code: nothing is thrown here.
        try? MainThread.run { await WarrenCommand.main() }
    }
}
