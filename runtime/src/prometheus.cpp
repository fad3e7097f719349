#include "chat/runtime/prometheus.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace chat::runtime {

namespace {

// Shortest round-trip text, as Prometheus parses it (Go's ParseFloat).
std::string number(double v) {
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v))
    return "NaN";
  char buf[32];
  // Plain decimals when they are exact (le="10", le="0.0025": what queries
  // match), else the shortest form that reads back the same.
  if (std::fabs(v) < 1e15)
    for (int decimals = 0; decimals <= 9; ++decimals) {
      std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
      if (std::strtod(buf, nullptr) == v)
        return buf;
    }
  std::snprintf(buf, sizeof buf, "%.17g", v);
  for (int digits = 1; digits < 17; ++digits) {
    char shorter[32];
    std::snprintf(shorter, sizeof shorter, "%.*g", digits, v);
    if (std::strtod(shorter, nullptr) == v)
      return shorter;
  }
  return buf;
}

void escape_label(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\', out += c;
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

void escape_help(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

} // namespace

prometheus_text& prometheus_text::family(std::string_view name, std::string_view type,
                                         std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  escape_help(out_, help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
  return *this;
}

void prometheus_text::name_and_labels(std::string_view name, labels l) {
  out_ += name;
  if (l.size() == 0)
    return;
  out_ += '{';
  bool first = true;
  for (auto& [k, v] : l) {
    if (!first)
      out_ += ',';
    first = false;
    out_ += k;
    out_ += "=\"";
    escape_label(out_, v);
    out_ += '"';
  }
  out_ += '}';
}

prometheus_text& prometheus_text::sample(std::string_view name, labels l, double value) {
  name_and_labels(name, l);
  out_ += ' ';
  out_ += number(value);
  out_ += '\n';
  return *this;
}

prometheus_text& prometheus_text::sample(std::string_view name, labels l, uint64_t value) {
  name_and_labels(name, l);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
  return *this;
}

prometheus_text& prometheus_text::counter(std::string_view name, std::string_view help,
                                          uint64_t value) {
  return family(name, "counter", help).sample(name, {}, value);
}

prometheus_text& prometheus_text::gauge(std::string_view name, std::string_view help,
                                        double value) {
  return family(name, "gauge", help).sample(name, {}, value);
}

prometheus_text& prometheus_text::gauge(std::string_view name, std::string_view help,
                                        uint64_t value) {
  return family(name, "gauge", help).sample(name, {}, value);
}

prometheus_text& prometheus_text::histogram(std::string_view name, std::string_view help,
                                            const runtime::histogram& h, double scale) {
  family(name, "histogram", help);
  auto s = h.read();
  std::string bucket{name};
  bucket += "_bucket";
  for (size_t i = 0; i < s.bounds.size(); ++i)
    sample(bucket, {{"le", number(static_cast<double>(s.bounds[i]) / scale)}}, s.cumulative[i]);
  sample(bucket, {{"le", "+Inf"}}, s.count);
  sample(std::string{name} + "_sum", {}, static_cast<double>(s.sum) / scale);
  sample(std::string{name} + "_count", {}, s.count);
  return *this;
}

} // namespace chat::runtime
