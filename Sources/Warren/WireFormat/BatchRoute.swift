import WarrenAMQP

/// The compact form of a batch child: published to ``WireFormat/batchExchange`` with job id `<batch>.<k>`
/// (`k` decimal digits) and no `warren-batch` header (``WorkflowHeader/batch``), instead of carrying the
/// batch id in that header. A header table with a 36-byte batch id put every child's properties over 64
/// bytes, which RabbitMQ 3.10 keeps off the queue process's heap on a list it walks at every garbage
/// collection: with 100,000 children waiting, each delivery cost the broker more (docs/workflows.md,
/// "Cost"). A child in the compact form costs what a plain job of the same name costs.
///
/// The worker turns the compact form back into the header as it reads a delivery (``restoringHeader(_:)``),
/// so everything after it (middleware, retries, dead letters, requeues) sees the header form, which every
/// reader has always understood. A producer uses the compact form only where the id says the batch and the
/// job goes straight to its queue (no delay); otherwise the header.
enum BatchRoute {
    /// Whether a child `id` of `batch` can go in the compact form: `id` is `batch`, a `.`, then digits, i.e.
    /// the worker reads `batch` back from it (``batch(ofChild:)``, the one rule both sides follow).
    static func isCompact(childID id: String, batch: String) -> Bool {
        self.batch(ofChild: id) == batch
    }

    /// The batch a compact child's `id` names: the text before its last `.`, when what follows is digits
    /// and what precedes is not empty; else `nil`. Pure. Read for every compact child: scanned as bytes.
    static func batch(ofChild id: String) -> String? {
        var id = id
        return id.withUTF8 { u -> String? in
            guard let dot = u.lastIndex(of: UInt8(ascii: ".")), dot > 0, dot < u.count - 1 else { return nil }
            for byte in u[(dot + 1)...] where byte < UInt8(ascii: "0") || byte > UInt8(ascii: "9") { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: u[..<dot]), as: UTF8.self)
        }
    }

    /// The properties a compact child stands for: with the `warren-batch` header its id names, or `.void`
    /// there when the id names no batch (the batch middleware then dead-letters it `undecodable`, saying
    /// so). `nil` for a message not published to ``WireFormat/batchExchange`` or carrying the header already.
    static func explicitProperties(exchange: String, properties: BasicProperties) -> BasicProperties? {
        guard exchange == WireFormat.batchExchange, properties.headers?[WorkflowHeader.batch] == nil else { return nil }
        var p = properties
        var headers = p.headers ?? [:]
        headers[WorkflowHeader.batch] = header(forChild: properties.messageID)
        p.headers = headers
        return p
    }

    /// The `warren-batch` header a compact child with job id `id` stands for: its batch, or `.void` when the
    /// id names none (refused by ``BatchMembership/batchID(header:)`` with a message saying so).
    static func header(forChild id: String?) -> FieldValue {
        id.flatMap(batch(ofChild:)).map(FieldValue.string) ?? .void
    }

    /// `delivery` in the header form: itself unless it is a compact child (``explicitProperties(exchange:properties:)``).
    static func restoringHeader(_ delivery: AMQPDelivery) -> AMQPDelivery {
        guard let p = explicitProperties(exchange: delivery.exchange, properties: delivery.properties) else { return delivery }
        return delivery.with(properties: p)
    }
}
