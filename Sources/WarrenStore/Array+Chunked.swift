extension Array {
    /// Consecutive pieces of at most `n` elements (statements bound in bounded chunks).
    func chunked(by n: Int) -> [[Element]] {
        stride(from: 0, to: count, by: Swift.max(1, n)).map { Array(self[$0..<Swift.min($0 + n, count)]) }
    }
}
