// `serve [--port P] [--bind ADDR]`: the web view (web_page.hpp) and its JSON
// API (web_api.hpp) over HTTP, until SIGINT or SIGTERM. Read-only: GET (and
// HEAD) only, anything else is answered 405; the journal is opened once,
// before the port, as the other commands open it. Bound to 127.0.0.1 unless
// --bind says otherwise; --port 0 takes a free port. Prints the address once
// it listens; exit status 0 after a signal, 1 if the journal does not open or
// the address cannot be bound.
//
// Threads: httplib's listening thread is the caller's; its worker threads
// answer requests, each call into web_api holding its connections alone.
// A signal only writes a byte to a pipe; a thread of our own reads it and
// stops the server (stop() is not async-signal-safe). No CAF thread is
// involved.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
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

extern "C" void on_stop_signal(int) {
  const char byte = 1;
  const int fd = signal_pipe.load();
  if (fd >= 0 && ::write(fd, &byte, 1) < 0) {
  }  // a full pipe already holds a byte: the watcher wakes anyway
}

// While alive, SIGINT and SIGTERM stop `server` (once it listens: stop() is
// retried until listen returns); the handlers before it are put back after.
class stop_on_signals {
 public:
  explicit stop_on_signals(httplib::Server& server) {
    if (::pipe2(fds_, O_CLOEXEC) != 0) throw failure{"serve: no pipe for the signals: " + std::string{strerror(errno)}};
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
    on_stop_signal(0);  // wakes the watcher
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
    while (!done_) {  // a signal before listen() began: stop() has no effect until it runs
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  int fds_[2] = {-1, -1};
  struct sigaction old_int_ {}, old_term_ {};
  std::atomic<bool> done_{false};
  std::atomic<bool> signalled_{false};
  std::thread watcher_;
};

void answer(httplib::Response& res, const web_response& r) {
  res.status = r.status;
  res.set_content(r.body.dump(), "application/json; charset=utf-8");
}

// Only GET and HEAD reach the routes.
httplib::Server::HandlerResponse read_only(const httplib::Request& req, httplib::Response& res) {
  if (req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
  res.set_header("Allow", "GET, HEAD");
  answer(res, {405, {{"error", "the web view is read-only: " + req.method + " is not allowed (GET only)"}}});
  return httplib::Server::HandlerResponse::Handled;
}

void route(httplib::Server& server, const web_api& api) {
  server.set_pre_routing_handler(read_only);
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
  route(server, api);
  const int port = a.port == 0 ? server.bind_to_any_port(a.bind) : (server.bind_to_port(a.bind, a.port) ? a.port : -1);
  if (port < 0)
    throw failure{"cannot listen on " + a.bind + ":" + std::to_string(a.port) +
                  " (the port is taken, or the address is not one of this machine's)"};
  const auto host = a.bind.find(':') != std::string::npos ? "[" + a.bind + "]" : a.bind;
  c.out() << "serving journal '" << c.journal_path() << "' (read-only) at " << c.paint("http://" + host + ":" +
          std::to_string(port) + "/", style::bold) << "  (Ctrl-C stops)" << std::endl;
  stop_on_signals stopper{server};
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
