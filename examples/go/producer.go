// Enqueue Warren jobs from Go with amqp091-go alone, no Warren library (see docs/wire-format.md).
// Tested in CI against a real broker and worker (scripts/integration/ruby-go-producers.sh), built offline
// from Debian's golang-github-rabbitmq-amqp091-go-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o producer producer.go
//
// Usage: WARREN_URL=amqp://user:pass@host:5672/%2F ./producer QUEUE ECHO_FILE
// It enqueues `echo` jobs (a reference job of `warren worker`): plain, expiring, traced, prioritised, delayed,
// and prints "label job-id" for each.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// delayRoutingKey is the routing key on exchange warren.delay: 32 binary digits of the delay in ms, then the queue.
func delayRoutingKey(delayMs uint32, queue string) string {
	return strings.Join(strings.Split(fmt.Sprintf("%032b", delayMs), ""), ".") + "." + queue
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

type options struct {
	priority    uint8
	delayMs     uint32
	expiresInMs int64
	traceparent string
}

// enqueue publishes one job, waits for the broker's confirm, and returns the job id.
func enqueue(ch *amqp.Channel, queue, job string, args map[string]any, o options) (string, error) {
	body, err := json.Marshal(args)
	if err != nil {
		return "", err
	}
	now := time.Now()
	headers := amqp.Table{"warren-version": int32(1), "warren-job": job, "warren-attempt": int32(1),
		"warren-queue": queue, "warren-enqueued-at": now.UnixMilli()}
	if o.expiresInMs > 0 {
		headers["warren-expires-at"] = now.UnixMilli() + o.expiresInMs
	}
	if o.traceparent != "" {
		headers["traceparent"] = o.traceparent
	}
	exchange, key := "warren", queue
	if o.delayMs > 0 {
		exchange, key = "warren.delay", delayRoutingKey(o.delayMs, queue)
	}
	id := newID()
	// mandatory: a job no queue takes comes back (basic.return) instead of vanishing (on `warren` it is parked
	// in warren.unroutable, that exchange's alternate exchange).
	confirm, err := ch.PublishWithDeferredConfirmWithContext(context.Background(), exchange, key, true, false, amqp.Publishing{
		ContentType: "application/json", DeliveryMode: amqp.Persistent, MessageId: id, Priority: o.priority,
		Timestamp: now, Headers: headers, Body: body,
	})
	if err != nil {
		return "", err
	}
	if !confirm.Wait() {
		return "", fmt.Errorf("broker refused job %s", id)
	}
	return id, nil
}

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: producer QUEUE ECHO_FILE")
	}
	queue, echoFile := os.Args[1], os.Args[2]
	url := os.Getenv("WARREN_URL")
	if url == "" {
		url = "amqp://guest:guest@127.0.0.1:5672/%2F"
	}
	conn, err := amqp.Dial(url)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		log.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		log.Fatal(err)
	}
	returns := ch.NotifyReturn(make(chan amqp.Return, 10))
	trace := "00-0af7651916cd43dd8448eb211c80319c-d2e2f2a2b2c2d2e2-01"
	jobs := []struct {
		label string
		args  map[string]any
		opts  options
	}{
		{"go-plain", map[string]any{"n": 1, "tags": []string{"a", "b"}, "ratio": 0.5, "ok": true}, options{}},
		{"go-expiring", map[string]any{"n": 2}, options{expiresInMs: 60_000}},
		{"go-traced", map[string]any{"n": 3}, options{traceparent: trace}},
		{"go-prio", map[string]any{"n": 4}, options{priority: 9}},
		{"go-delayed", map[string]any{"n": 5}, options{delayMs: 1500}},
	}
	for _, job := range jobs {
		job.args["file"], job.args["label"] = echoFile, job.label
		id, err := enqueue(ch, queue, "echo", job.args, job.opts)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(job.label, id)
	}
	select { // a return arrives before its confirm: any return is already here
	case r := <-returns:
		log.Fatalf("job %s came back unroutable: %s", r.MessageId, r.ReplyText)
	default:
	}
}
