extension WireFormat.Header {
    /// On jobs published by the scheduler: the name of the schedule that fired (string).
    public static let schedule = "warren-schedule"
    /// On jobs published by the scheduler: the fire time the job stands for (ms). With the schedule name it
    /// makes the message id (``ScheduleDefinition/fireID(for:)``), and it is what a new leader reads back
    /// from the schedule's state queue to learn what was fired last.
    public static let fireTime = "warren-fire-time"
}
