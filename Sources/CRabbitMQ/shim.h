// Thin C shim over librabbitmq-c 0.11 for Swift.
// Only what Swift cannot call directly lives here: the variadic login functions and a few
// libc helpers the I/O thread needs (eventfd, poll). Everything else is called as-is.
#ifndef WARREN_CRABBITMQ_SHIM_H
#define WARREN_CRABBITMQ_SHIM_H

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#include <poll.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

/// Diagnoses a failed connect: tries a plain TCP connect to host:port within `timeout_ms` and returns
/// 0 if it succeeded, else the errno that explains the failure (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH...),
/// or -1 when the name does not resolve. librabbitmq-c reports only "a socket error occurred".
static inline int warren_tcp_probe(const char *host, int port, int timeout_ms) {
    struct addrinfo hints, *res = NULL;
    char service[16];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(host, service, &hints, &res) != 0 || res == NULL) return -1;
    int result = ETIMEDOUT;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) { result = errno; continue; }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) { close(fd); result = 0; break; }
        if (errno != EINPROGRESS) { result = errno; close(fd); continue; }
        struct pollfd p = { .fd = fd, .events = POLLOUT, .revents = 0 };
        if (poll(&p, 1, timeout_ms) <= 0) { result = ETIMEDOUT; close(fd); continue; }
        int err = 0; socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        close(fd);
        result = err;
        if (err == 0) break;
    }
    freeaddrinfo(res);
    return result;
}

/// SASL PLAIN login with client properties (amqp_login_with_properties is variadic).
static inline amqp_rpc_reply_t warren_login_plain(amqp_connection_state_t state, const char *vhost,
                                                  int channel_max, int frame_max, int heartbeat,
                                                  const amqp_table_t *properties,
                                                  const char *user, const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}

/// SASL EXTERNAL login (TLS client certificate identity).
static inline amqp_rpc_reply_t warren_login_external(amqp_connection_state_t state, const char *vhost,
                                                     int channel_max, int frame_max, int heartbeat,
                                                     const amqp_table_t *properties,
                                                     const char *identity) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, properties,
                                      AMQP_SASL_METHOD_EXTERNAL, identity);
}

/// Sets or clears TCP_CORK on a socket: while set, the kernel holds partial segments back so a burst of
/// small writes leaves as full segments; clearing it sends what is held at once.
static inline void warren_tcp_cork(int fd, int on) { (void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on); }

/// A non-blocking, close-on-exec eventfd used to wake an I/O thread out of poll().
static inline int warren_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/// Adds one to an eventfd (wakes its poller). Safe from any thread.
static inline void warren_eventfd_signal(int fd) { uint64_t one = 1; ssize_t r = write(fd, &one, sizeof one); (void)r; }

/// Resets an eventfd to zero after a wake-up.
static inline void warren_eventfd_drain(int fd) { uint64_t v; ssize_t r = read(fd, &v, sizeof v); (void)r; }

/// Waits until `sock` (if >= 0) or `wake` is readable, or `timeout_ms` passes.
/// Returns a bit set: 1 when the socket is readable, 2 when `wake` is; 0 when timed out or interrupted.
static inline int warren_poll2(int sock, int wake, int timeout_ms) {
    struct pollfd fds[2];
    int n = 0;
    fds[n].fd = wake; fds[n].events = POLLIN; fds[n].revents = 0; n++;
    if (sock >= 0) { fds[n].fd = sock; fds[n].events = POLLIN; fds[n].revents = 0; n++; }
    int r = poll(fds, (nfds_t)n, timeout_ms);
    if (r <= 0) return 0;
    int ready = (fds[0].revents & POLLIN) ? 2 : 0;
    if (n == 2 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP))) ready |= 1;
    return ready;
}

/// errno, readable from Swift without Glibc's macro quirks.
static inline int warren_errno(void) { return errno; }

#endif
