// Metrics, health and readiness for Warren processes (being built).
