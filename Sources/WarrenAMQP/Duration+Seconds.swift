extension Duration {
    /// The duration in seconds, as a Double (for C timeouts, dates and printing).
    public var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
