#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "chat/runtime/histogram.hpp"

namespace chat::runtime {

/// Writes Prometheus's text exposition format (version 0.0.4): each metric
/// family once with its HELP and TYPE, then its samples; label values escaped.
/// Names follow the conventions the caller picks (`_total`, `_seconds`).
class prometheus_text {
public:
  using labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  /// Starts a family; its samples follow (`sample`).
  prometheus_text& family(std::string_view name, std::string_view type, std::string_view help);

  prometheus_text& sample(std::string_view name, labels l, double value);
  prometheus_text& sample(std::string_view name, labels l, uint64_t value);

  /// A family with one unlabelled sample.
  prometheus_text& counter(std::string_view name, std::string_view help, uint64_t value);
  prometheus_text& gauge(std::string_view name, std::string_view help, double value);
  prometheus_text& gauge(std::string_view name, std::string_view help, uint64_t value);

  /// A histogram family: cumulative `_bucket`s with `le` (ending with +Inf),
  /// `_sum` and `_count`; the histogram's values (and bounds) divided by `scale`
  /// (1e6: microseconds exposed as seconds).
  prometheus_text& histogram(std::string_view name, std::string_view help,
                             const runtime::histogram& h, double scale = 1);

  [[nodiscard]] const std::string& str() const { return out_; }

private:
  void name_and_labels(std::string_view name, labels l);
  std::string out_;
};

} // namespace chat::runtime
