// `serve [--port P] [--bind ADDR]`: the web view (web_page.hpp) and its JSON
// API (web_api.hpp) over HTTP, until SIGINT or SIGTERM. Read-only: GET (and
// HEAD) only, anything else is answered 405; the journal is opened once,
// before the port, as the other commands open it. Bound to 127.0.0.1 unless
// --bind says otherwise; --port 0 takes a free port. Prints the address once
// it listens (and the signals are handled); exit status 0 after a signal, 1 if
// the journal does not open or the address cannot be bound.
//
// DNS rebinding: a web page elsewhere could name a host of its own that
// resolves to 127.0.0.1 and read the view from the browser. So, bound to a
// loopback address, only requests whose Host header is 127.0.0.1, localhost,
// [::1] or the bound address (with or without a port) are answered, any other
// 403. Bound elsewhere (--bind 0.0.0.0, ...) any Host is, and a warning says
// the journal is open to that network.
//
// Threads: httplib's listening thread is the caller's; its worker threads
// answer requests, each call into web_api holding its connections alone.
// A signal only writes a byte to a pipe (non-blocking); a thread of our own
// reads it and stops the server (stop() is not async-signal-safe). Stopping
// waits for the requests under way; a second signal exits at once (status
// 128 + the signal, 130 for Ctrl-C). No CAF thread is involved.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <thread>

#include <CLI/CLI.hpp>
#include <httplib.h>

#include "commands.hpp"
#include "web_api.hpp"
#include "web_page.hpp"

namespace interlock::debug::detail {

namespace {

struct serve_args {
  int port = 7411;
  std::string bind = "127.0.0.1";
};

std::atomic<int> signal_pipe{-1};  // the write end, for the handler
std::atomic<int> signals_seen{0};

void wake(int fd) {
  const char byte = 1;
  if (fd >= 0 && ::write(fd, &byte, 1) < 0) {
  }  // a full pipe (EAGAIN: the write end is non-blocking) already holds a byte: the watcher wakes anyway
}

// The first signal asks the watcher to stop the server; the second (the
// stop waits for a long request) ends the process at once.
extern "C" void on_stop_signal(int sig) {
  if (signals_seen.fetch_add(1) == 0) {
    wake(signal_pipe.load());
    return;
  }
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  constexpr char message[] = "\nserve: a second signal: stopping at once\n";
  if (::write(STDERR_FILENO, message, sizeof message - 1) < 0) {
  }
  ::_exit(128 + sig);
}

// While alive, SIGINT and SIGTERM stop `server` (once it listens: stop() is
// retried until listen returns); the handlers before it are put back after.
class stop_on_signals {
 public:
  // `note`: where to say that a stop is slow (a request under way).
  stop_on_signals(httplib::Server& server, std::ostream& note) : note_(note) {
    if (::pipe2(fds_, O_CLOEXEC) != 0) throw failure{"serve: no pipe for the signals: " + std::string{strerror(errno)}};
    ::fcntl(fds_[1], F_SETFL, ::fcntl(fds_[1], F_GETFL) | O_NONBLOCK);  // a handler never blocks on it
    signals_seen = 0;
    signal_pipe = fds_[1];
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
    watcher_ = std::thread{[this, &server] { watch(server); }};
  }
  ~stop_on_signals() {
    done_ = true;
    wake(fds_[1]);  // wakes the watcher
    watcher_.join();
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    signal_pipe = -1;
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  stop_on_signals(const stop_on_signals&) = delete;
  stop_on_signals& operator=(const stop_on_signals&) = delete;
  bool signalled() const { return signalled_; }

 private:
  void watch(httplib::Server& server) {
    char byte;
    while (::read(fds_[0], &byte, 1) < 0 && errno == EINTR) {
    }
    if (done_) return;
    signalled_ = true;
    for (int tries = 0; !done_; ++tries) {  // a signal before listen() began: stop() has no effect until it runs
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (tries == 100 && !done_)
        note_ << "serve: stopping once the requests under way are answered (a second Ctrl-C stops at once)"
              << std::endl;
    }
  }
  std::ostream& note_;
  int fds_[2] = {-1, -1};
  struct sigaction old_int_ {}, old_term_ {};
  std::atomic<bool> done_{false};
  std::atomic<bool> signalled_{false};
  std::thread watcher_;
};

void answer(httplib::Response& res, const web_response& r) {
  res.status = r.status;
  res.set_content(r.text(), "application/json; charset=utf-8");
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// Whether `bind` is one of this machine's loopback addresses.
bool is_loopback(const std::string& bind) {
  const auto b = lower(bind);
  return b == "localhost" || b == "::1" || b.starts_with("127.");
}

// Whether a request with Host header `host` may be answered by a server bound
// to the loopback address `bind`: the host, without its port, is a name of
// this machine's loopback (or the address bound).
bool loopback_host(const std::string& host_header, const std::string& bind) {
  auto host = lower(host_header);
  if (host.starts_with("[")) {  // [::1] or [::1]:PORT
    const auto close = host.find(']');
    if (close == std::string::npos) return false;
    const auto rest = host.substr(close + 1);
    if (!rest.empty() && (rest[0] != ':' || rest.find_first_not_of("0123456789", 1) != std::string::npos)) return false;
    host = host.substr(1, close - 1);
  } else if (const auto colon = host.find(':'); colon != std::string::npos) {
    if (host.find_first_not_of("0123456789", colon + 1) != std::string::npos) return false;
    host.resize(colon);
  }
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == lower(bind);
}

// Only GET and HEAD reach the routes, and, bound to a loopback address, only
// with a Host header naming it.
httplib::Server::HandlerResponse guard(const httplib::Request& req, httplib::Response& res, const std::string& bind) {
  if (is_loopback(bind) && !loopback_host(req.get_header_value("Host"), bind)) {
    answer(res, {403, {{"error", "the web view answers only requests to 127.0.0.1, localhost or [::1], not to Host '" +
                                     req.get_header_value("Host") + "' (serve --bind ADDR to listen elsewhere)"}}});
    return httplib::Server::HandlerResponse::Handled;
  }
  if (req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
  res.set_header("Allow", "GET, HEAD");
  answer(res, {405, {{"error", "the web view is read-only: " + req.method + " is not allowed (GET only)"}}});
  return httplib::Server::HandlerResponse::Handled;
}

void route(httplib::Server& server, const web_api& api, const std::string& bind) {
  server.set_pre_routing_handler(
      [bind](const httplib::Request& req, httplib::Response& res) { return guard(req, res, bind); });
  server.set_default_headers({{"Cache-Control", "no-store"}});
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string{web_page()}, "text/html; charset=utf-8");
  });
  server.Get("/api/.*", [&api](const httplib::Request& req, httplib::Response& res) {
    std::map<std::string, std::string> query;
    for (const auto& [k, v] : req.params) query.emplace(k, v);  // the first of a repeated parameter
    answer(res, api.get(req.path, query));
  });
  server.Get(".*", [](const httplib::Request& req, httplib::Response& res) {
    answer(res, {404, {{"error", "no page at '" + req.path + "' (the view is at /)"}}});
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    answer(res, {500, {{"error", "the request failed unexpectedly"}}});
  });
  server.set_keep_alive_timeout(1);  // a stop waits for open connections at most this long
}

int serve(const console& c, const serve_args& a) {
  if (a.port < 0 || a.port > 65535) throw failure{"--port must be 0 to 65535, not " + std::to_string(a.port), 2};
  const web_api api{c};
  httplib::Server server;
  route(server, api, a.bind);
  const int port = a.port == 0 ? server.bind_to_any_port(a.bind) : (server.bind_to_port(a.bind, a.port) ? a.port : -1);
  if (port < 0)
    throw failure{"cannot listen on " + a.bind + ":" + std::to_string(a.port) +
                  " (the port is taken, or the address is not one of this machine's)"};
  stop_on_signals stopper{server, c.err()};  // before the address is printed: whoever reads it may signal at once
  const auto host = a.bind.find(':') != std::string::npos ? "[" + a.bind + "]" : a.bind;
  if (!is_loopback(a.bind))
    c.out() << c.paint("warning:", style::yellow) << " --bind " << a.bind << " is not this machine only: whoever can reach "
            << "that address can read the journal's contents (every event, payload and state)" << std::endl;
  c.out() << "serving journal '" << c.journal_path() << "' (read-only) at " << c.paint("http://" + host + ":" +
          std::to_string(port) + "/", style::bold) << "  (Ctrl-C stops)" << std::endl;
  const bool ok = server.listen_after_bind();
  if (!stopper.signalled() && !ok) throw failure{"the server on " + a.bind + ":" + std::to_string(port) + " stopped"};
  c.out() << "stopped" << std::endl;
  return 0;
}

}  // namespace

command add_serve(CLI::App& cli, const console& c) {
  auto args = std::make_shared<serve_args>();
  auto* app = cli.add_subcommand("serve", "a web view of the journal: its streams, a stream's events with the state "
                                          "after each and what changed, a search by id (read-only, until Ctrl-C)");
  app->add_option("--port", args->port, "the TCP port (default 7411; 0: any free port, printed)");
  app->add_option("--bind", args->bind, "the address to listen on (default 127.0.0.1: this machine only)");
  return {app, [&c, args] { return serve(c, *args); }};
}

}  // namespace interlock::debug::detail
