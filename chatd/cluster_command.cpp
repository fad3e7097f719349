#include "cluster_command.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

extern char** environ;

namespace chatd {

namespace {

struct child {
  std::string id;
  pid_t pid = -1;
  bool running = false;
};

pid_t spawn_node(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  // The child must not inherit the blocked SIGINT/SIGTERM mask of this process.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  int rc = posix_spawn(&pid, "/proc/self/exe", nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -1;
}

// One line, in one write(2): the nodes log to the same stdout/stderr, and
// std::cerr writes each `<<` on its own, so a node's line could land inside
// this one (a test waiting for "node n4 exited with 0" missed it so).
void say(int fd, std::string line) {
  line += '\n';
  for (size_t done = 0; done < line.size();) {
    auto n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    done += static_cast<size_t>(n);
  }
}

} // namespace

int run_cluster_command(int argc, char** argv) {
  CLI::App app{"chatd cluster: start a local cluster of N nodes (child processes); Ctrl-C "
               "stops them all. Other flags (e.g. --dev, --jwt-secret) go to every node.",
               "chatd cluster"};
  unsigned nodes = 3;
  unsigned http_base = 8080;
  unsigned cluster_base = 9001;
  std::string data = "./data";
  std::string host = "127.0.0.1";
  app.add_option("--nodes", nodes, "how many nodes")->check(CLI::Range(1u, 16u));
  app.add_option("--http-base", http_base, "HTTP port of n1; node k gets base + k - 1")
    ->check(CLI::Range(1u, 65000u));
  app
    .add_option("--cluster-base", cluster_base, "cluster port of n1; node k gets base + k - 1")
    ->check(CLI::Range(1u, 65000u));
  app.add_option("--data", data, "data directory; node k uses DIR/nk");
  app.add_option("--host", host, "address every node listens on");
  app.allow_extras();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help() << '\n';
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << "chatd cluster: " << e.what() << '\n';
    return 2;
  }
  if (http_base < cluster_base + nodes && cluster_base < http_base + nodes) {
    std::cerr << "chatd cluster: the HTTP and cluster port ranges overlap\n";
    return 2;
  }
  auto extras = app.remaining();
  for (auto& x : extras)
    for (auto* reserved : {"--node-id", "--http", "--cluster", "--join", "--data"})
      if (x == reserved || x.rfind(std::string{reserved} + "=", 0) == 0) {
        std::cerr << "chatd cluster: " << reserved << " is set per node; use --nodes, "
                  << "--http-base, --cluster-base, --data\n";
        return 2;
      }

  // Nodes on one machine share its cores: unless told otherwise, each gets
  // its share of actor threads (three nodes with one scheduler thread per
  // core each tripled the cluster bench's median latency on 2 cores).
  bool threads_given = false;
  for (auto& x : extras)
    threads_given = threads_given || x.rfind("--actor-threads", 0) == 0;
  if (!threads_given) {
    auto share = std::max(1u, std::thread::hardware_concurrency() / nodes);
    extras.push_back("--actor-threads");
    extras.push_back(std::to_string(share));
  }

  std::signal(SIGINT, SIG_DFL); // see block_stop_signals in main.cpp
  std::signal(SIGTERM, SIG_DFL);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  std::vector<child> children;
  auto seed = host + ":" + std::to_string(cluster_base);
  for (unsigned k = 1; k <= nodes; ++k) {
    child c;
    c.id = "n" + std::to_string(k);
    auto http = host + ":" + std::to_string(http_base + k - 1);
    auto cluster = host + ":" + std::to_string(cluster_base + k - 1);
    auto dir = data + "/" + c.id;
    std::vector<std::string> args{"chatd",     "--node-id", c.id,     "--http", http,
                                  "--cluster", cluster,     "--data", dir};
    if (k > 1) {
      args.push_back("--join");
      args.push_back(seed);
    }
    args.insert(args.end(), extras.begin(), extras.end());
    c.pid = spawn_node(args);
    if (c.pid < 0) {
      say(2, "chatd cluster: cannot start " + c.id);
      break;
    }
    c.running = true;
    say(1, "node " + c.id + ": http://" + http + "/  (cluster " + cluster + ", data " + dir
             + ", pid " + std::to_string(c.pid) + ")");
    children.push_back(c);
  }

  // Until a stop signal (or every node has exited): then stop every node still
  // running. A node that leaves on its own (SIGTERM to it) leaves the others
  // running, as a cluster would.
  int code = children.size() == nodes ? 0 : 1;
  auto reap = [&](bool block) {
    for (auto& c : children) {
      if (!c.running)
        continue;
      int status = 0;
      if (waitpid(c.pid, &status, block ? 0 : WNOHANG) == c.pid) {
        c.running = false;
        int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        say(2, "chatd cluster: node " + c.id + " exited with " + std::to_string(rc));
        if (rc != 0)
          code = 1;
      }
    }
  };
  bool stopping = code != 0;
  while (!stopping) {
    int sig = 0;
    sigwait(&stop, &sig);
    if (sig == SIGCHLD) {
      reap(false);
      stopping = std::none_of(children.begin(), children.end(), [](const child& c) {
        return c.running;
      });
    } else {
      stopping = true;
    }
  }
  // SIGINT: the nodes stop and keep their rooms (SIGTERM would make each hand
  // its rooms to the others, which are stopping too).
  for (auto& c : children)
    if (c.running)
      kill(c.pid, SIGINT);
  reap(true);
  say(1, "chatd cluster: all nodes stopped");
  return code;
}

} // namespace chatd
