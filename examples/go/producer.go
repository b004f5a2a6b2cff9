// Enqueue a Warren job from Go with amqp091-go, no Warren library (see docs/wire-format.md).
// Checked with gofmt where Go exists; UNTESTED otherwise (no Go toolchain or module cache on the CI machines).
// Usage: WARREN_URL=amqp://user:pass@host:5672/%2F go run producer.go QUEUE
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

func enqueue(ch *amqp.Channel, queue, job string, args any, priority uint8, delayMs uint32) (string, error) {
	body, err := json.Marshal(args)
	if err != nil {
		return "", err
	}
	now := time.Now()
	exchange, key := "warren", queue
	if delayMs > 0 {
		exchange, key = "warren.delay", delayRoutingKey(delayMs, queue)
	}
	id := newID()
	confirm, err := ch.PublishWithDeferredConfirmWithContext(context.Background(), exchange, key, true, false, amqp.Publishing{
		ContentType: "application/json", DeliveryMode: amqp.Persistent, MessageId: id, Priority: priority, Timestamp: now,
		Headers: amqp.Table{"warren-version": int32(1), "warren-job": job, "warren-attempt": int32(1),
			"warren-queue": queue, "warren-enqueued-at": now.UnixMilli()},
		Body: body,
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
	queue := os.Args[1]
	for _, job := range []struct {
		args     map[string]any
		priority uint8
		delayMs  uint32
	}{{map[string]any{"ms": 100}, 0, 0}, {map[string]any{"ms": 10}, 9, 0}, {map[string]any{"ms": 10}, 0, 1500}} {
		id, err := enqueue(ch, queue, "sleep", job.args, job.priority, job.delayMs)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(id)
	}
}
