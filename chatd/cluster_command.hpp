#pragma once

namespace chatd {

/// `chatd cluster --nodes N ...`: starts N local nodes as child processes, one
/// cluster, and stops them all on Ctrl-C / SIGTERM. `argv[0]` is "cluster".
int run_cluster_command(int argc, char** argv);

} // namespace chatd
