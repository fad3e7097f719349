#pragma once

// A checker of Prometheus's text exposition format (0.0.4), strict where a
// scraper is: every sample belongs to a family declared once (HELP and TYPE,
// before its samples), names and labels are well-formed, values parse, and a
// histogram's buckets are cumulative, end with le="+Inf" equal to its _count,
// and it has a _sum. Returns what is wrong (empty: valid) and the samples.

#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace chat::test {

struct exposition {
  std::vector<std::string> problems;
  std::map<std::string, std::string> types; ///< family -> type
  /// "name{labels}" (labels as written) -> value
  std::map<std::string, double> samples;

  double value(const std::string& key) const {
    auto i = samples.find(key);
    return i == samples.end() ? NAN : i->second;
  }
};

inline exposition parse_exposition(const std::string& text) {
  exposition out;
  static const std::regex help{R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$)"};
  static const std::regex type{
    R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)"};
  static const std::regex sample{
    R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)?\})? (\S+)$)"};
  std::set<std::string> helped;
  std::string current; ///< the family whose samples may follow
  std::istringstream in{text};
  std::string line;
  // Per histogram: its buckets in order, its _count, whether it had a _sum.
  struct hist {
    std::vector<std::pair<std::string, double>> buckets;
    double count = NAN;
    bool sum = false;
  };
  std::map<std::string, hist> hists;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto where = "line " + std::to_string(n) + " '" + line + "': ";
    std::smatch m;
    if (line.empty()) {
      out.problems.push_back(where + "empty line");
    } else if (std::regex_match(line, m, help)) {
      if (!helped.insert(m[1]).second)
        out.problems.push_back(where + "second HELP");
    } else if (std::regex_match(line, m, type)) {
      if (out.types.count(m[1]) != 0)
        out.problems.push_back(where + "second TYPE");
      if (helped.count(m[1]) == 0)
        out.problems.push_back(where + "TYPE without HELP");
      out.types[m[1]] = m[2];
      current = m[1];
    } else if (line[0] == '#') {
      out.problems.push_back(where + "unknown comment");
    } else if (std::regex_match(line, m, sample)) {
      std::string name = m[1];
      std::string family = name;
      for (auto suffix : {"_bucket", "_sum", "_count"})
        if (out.types[current] == "histogram" && name == current + suffix)
          family = current;
      if (family != current)
        out.problems.push_back(where + "sample outside its family ('" + current + "')");
      std::string raw = m[7];
      char* end = nullptr;
      double v = raw == "+Inf"   ? INFINITY
                 : raw == "-Inf" ? -INFINITY
                                 : std::strtod(raw.c_str(), &end);
      if (end != nullptr && *end != '\0')
        out.problems.push_back(where + "not a number");
      auto key = name + std::string{m[2]};
      if (!out.samples.emplace(key, v).second)
        out.problems.push_back(where + "duplicate sample");
      if (out.types[family] == "histogram") {
        auto& h = hists[family];
        if (name == family + "_bucket") {
          static const std::regex le{R"(le="([^"]*)\")"};
          std::smatch lm;
          std::string labels = m[2];
          if (!std::regex_search(labels, lm, le))
            out.problems.push_back(where + "bucket without le");
          else
            h.buckets.emplace_back(lm[1], v);
        } else if (name == family + "_count") {
          h.count = v;
        } else {
          h.sum = true;
        }
      }
    } else {
      out.problems.push_back(where + "not a sample");
    }
  }
  for (auto& [name, h] : hists) {
    if (h.buckets.empty() || h.buckets.back().first != "+Inf")
      out.problems.push_back(name + ": the last bucket is not le=\"+Inf\"");
    else if (h.buckets.back().second != h.count)
      out.problems.push_back(name + ": the +Inf bucket is not the _count");
    if (!h.sum)
      out.problems.push_back(name + ": no _sum");
    double prev_le = -INFINITY, prev = 0;
    for (auto& [le, v] : h.buckets) {
      double bound = le == "+Inf" ? INFINITY : std::strtod(le.c_str(), nullptr);
      if (bound <= prev_le)
        out.problems.push_back(name + ": bounds not ascending at le=" + le);
      if (v < prev)
        out.problems.push_back(name + ": buckets not cumulative at le=" + le);
      prev_le = bound;
      prev = v;
    }
  }
  return out;
}

} // namespace chat::test
