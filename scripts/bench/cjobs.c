/* cjobs: a plain-C librabbitmq-c producer of Warren wire-format v1 jobs, the control of `warren-bench jobs`.

   cjobs fill QUEUE N [WINDOW]   publish N `noop` jobs to exchange `warren`, routing key QUEUE, with confirms,
                                 WINDOW outstanding (default 1000)
   Prints "fill N msgs in S s = R msg/s", like ../../../shared/bench/rawc.c, which it follows line for line
   except for what it publishes: rawc sends bare 100-byte messages to the default exchange, cjobs sends what
   Warren's producer sends for a job (docs/wire-format.md): no content_type (JSON), persistent, a
   fresh version-7 UUID message_id carrying the time in ms, timestamp (s), type = the job name, no headers,
   body {} — through the
   `warren` exchange. Timed against rawc in the same run, it prices the wire format at the broker; timed
   against Warren's producer, it prices the Swift client. The queue must exist (Warren declares it).
   Also a worked example of enqueueing Warren jobs from C.

   cjobs move SRC DST N [PREFETCH]  the control of `warren-bench dlq`: consume N messages from SRC (prefetch
                                 PREFETCH, default 2000), republish each unchanged (properties, body) to DST
                                 through the default exchange with confirms, on the same channel, and ack each
                                 source message once its copy is confirmed (a multiple ack for a multiple
                                 confirm: the n-th delivery is the n-th publish). Clock starts at the first
                                 delivery. Prints "move N msgs in S s = R msg/s". */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static void die_rpc(amqp_rpc_reply_t r, const char *what) {
  if (r.reply_type == AMQP_RESPONSE_NORMAL) return;
  fprintf(stderr, "%s failed: reply_type=%d lib=%s\n", what, r.reply_type, amqp_error_string2(r.library_error));
  exit(1);
}

/* xorshift64*: a fresh version-4 UUID per job without a syscall each. */
static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next64(void) { rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27; return rng * 0x2545F4914F6CDD1DULL; }
/* A version-7 UUID (RFC 9562) for the Unix time ms: 48 bits of time, then random, as Warren's JobID. */
static void uuid7(char out[37], uint64_t ms) {
  static const char hex[] = "0123456789abcdef";
  uint64_t a = (ms & 0xFFFFFFFFFFFFULL) << 16 | (next64() & 0xFFFF), b = next64();
  int o = 0;
  for (int i = 0; i < 16; i++) {
    unsigned byte = (unsigned)(((i < 8 ? a : b) >> (8 * (7 - i % 8))) & 0xFF);
    if (i == 6) byte = (byte & 0x0F) | 0x70;
    if (i == 8) byte = (byte & 0x3F) | 0x80;
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[byte >> 4];
    out[o++] = hex[byte & 0x0F];
  }
  out[o] = 0;
}

/* Consume from src, republish to dst with confirms, ack after confirm (see the header). */
static int move(amqp_connection_state_t c, const char *src, const char *dst, long n, int prefetch) {
  amqp_basic_qos(c, 1, 0, prefetch, 0); die_rpc(amqp_get_rpc_reply(c), "qos");
  amqp_confirm_select(c, 1); die_rpc(amqp_get_rpc_reply(c), "confirm");
  amqp_basic_consume(c, 1, amqp_cstring_bytes(src), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  die_rpc(amqp_get_rpc_reply(c), "consume");
  long received = 0, confirmed = 0;
  double t0 = now();
  while (confirmed < n) {
    amqp_frame_t f;
    amqp_maybe_release_buffers(c);
    if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK) { fprintf(stderr, "wait failed\n"); return 1; }
    if (f.frame_type != AMQP_FRAME_METHOD) continue;
    if (f.payload.method.id == AMQP_BASIC_DELIVER_METHOD) {
      amqp_message_t m;
      die_rpc(amqp_read_message(c, 1, &m, 0), "read_message");
      if (received++ == 0) t0 = now();
      if (amqp_basic_publish(c, 1, amqp_empty_bytes, amqp_cstring_bytes(dst), 0, 0, &m.properties, m.body)) { fprintf(stderr, "publish failed\n"); return 1; }
      amqp_destroy_message(&m);
    } else if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
      amqp_basic_ack_t *a = f.payload.method.decoded;
      if (amqp_basic_ack(c, 1, a->delivery_tag, a->multiple)) { fprintf(stderr, "ack failed\n"); return 1; }
      confirmed = a->multiple ? (long)a->delivery_tag : confirmed + 1;
    } else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) { fprintf(stderr, "nack\n"); return 1; }
  }
  double dt = now() - t0;
  printf("move %ld msgs in %.3f s = %.0f msg/s\n", n, dt, n / dt);
  return 0;
}

int main(int argc, char **argv) {
  int moving = argc >= 5 && !strcmp(argv[1], "move");
  if (!moving && (argc < 4 || strcmp(argv[1], "fill"))) {
    fprintf(stderr, "usage: cjobs fill QUEUE N [WINDOW] | cjobs move SRC DST N [PREFETCH]\n"); return 2;
  }
  const char *q = argv[2];
  long n = atol(argv[moving ? 4 : 3]);
  int window = moving ? (argc > 5 ? atoi(argv[5]) : 2000) : (argc > 4 ? atoi(argv[4]) : 1000);
  const char *host = getenv("AMQP_HOST") ? getenv("AMQP_HOST") : "127.0.0.1";
  int port = getenv("AMQP_PORT") ? atoi(getenv("AMQP_PORT")) : 5672;
  amqp_connection_state_t c = amqp_new_connection();
  amqp_socket_t *s = amqp_tcp_socket_new(c);
  if (amqp_socket_open(s, host, port)) { fprintf(stderr, "connect failed\n"); return 1; }
  die_rpc(amqp_login(c, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"), "login");
  amqp_channel_open(c, 1); die_rpc(amqp_get_rpc_reply(c), "channel");
  amqp_queue_declare(c, 1, amqp_cstring_bytes(q), 1, 0, 0, 0, amqp_empty_table);  /* passive: must exist */
  die_rpc(amqp_get_rpc_reply(c), "declare");
  if (moving) {
    int status = move(c, q, argv[3], n, window);
    amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS); amqp_connection_close(c, AMQP_REPLY_SUCCESS); amqp_destroy_connection(c);
    return status;
  }
  rng ^= (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL;
  double t0 = now();
  amqp_confirm_select(c, 1); die_rpc(amqp_get_rpc_reply(c), "confirm");
  char id[37];
  amqp_basic_properties_t p;
  p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG
           | AMQP_BASIC_TYPE_FLAG;
  p.delivery_mode = 2;
  p.type = amqp_cstring_bytes("noop");
  amqp_bytes_t body = amqp_cstring_bytes("{}");
  long sent = 0, acked = 0;
  while (acked < n) {
    while (sent < n && sent - acked < window) {
      struct timespec wall; clock_gettime(CLOCK_REALTIME, &wall);
      uuid7(id, (uint64_t)wall.tv_sec * 1000 + (uint64_t)(wall.tv_nsec / 1000000));
      p.message_id = amqp_cstring_bytes(id);
      p.timestamp = (uint64_t)wall.tv_sec;
      if (amqp_basic_publish(c, 1, amqp_cstring_bytes("warren"), amqp_cstring_bytes(q), 0, 0, &p, body)) { fprintf(stderr, "publish failed\n"); return 1; }
      sent++;
    }
    amqp_frame_t f;
    if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK) { fprintf(stderr, "wait failed\n"); return 1; }
    if (f.frame_type == AMQP_FRAME_METHOD && f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
      amqp_basic_ack_t *a = f.payload.method.decoded;
      acked = a->multiple ? (long)a->delivery_tag : acked + 1;
    } else if (f.frame_type == AMQP_FRAME_METHOD && f.payload.method.id == AMQP_BASIC_NACK_METHOD) { fprintf(stderr, "nack\n"); return 1; }
    amqp_maybe_release_buffers(c);
  }
  double dt = now() - t0;
  printf("fill %ld msgs in %.3f s = %.0f msg/s\n", n, dt, n / dt);
  amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS); amqp_connection_close(c, AMQP_REPLY_SUCCESS); amqp_destroy_connection(c);
  return 0;
}
