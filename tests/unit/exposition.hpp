#pragma once

// A checker of Prometheus's text exposition format (0.0.4), strict where a
// scraper is: every sample belongs to a family declared once (HELP and TYPE,
// before its samples), names and labels are well-formed, values parse, and a
// histogram's buckets are cumulative, end with le="+Inf" equal to its _count,
// and it has a _sum. Returns what is wrong (empty: valid) and the samples.

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
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

namespace detail {

inline bool name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'
         || (!first && std::isdigit(static_cast<unsigned char>(c)));
}

// A metric name at `i` (advanced past it); empty when there is none.
inline std::string read_name(const std::string& s, size_t& i, bool label = false) {
  auto start = i;
  while (i < s.size() && name_char(s[i], i == start) && !(label && s[i] == ':'))
    ++i;
  return s.substr(start, i - start);
}

// `{k="v",...}` at `i` (advanced past it), as written; false when malformed.
inline bool read_labels(const std::string& s, size_t& i, std::string& out) {
  auto start = i;
  if (i >= s.size() || s[i] != '{')
    return true; // no labels
  ++i;
  for (;;) {
    if (read_name(s, i, true).empty() || i + 1 >= s.size() || s[i] != '=' || s[i + 1] != '"')
      return false;
    i += 2;
    while (i < s.size() && s[i] != '"')
      i += s[i] == '\\' ? 2 : 1;
    if (i >= s.size())
      return false;
    ++i; // the closing quote
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}') {
      ++i;
      out = s.substr(start, i - start);
      return true;
    }
    return false;
  }
}

// The value of `le="..."` in `labels`.
inline std::optional<std::string> le_of(const std::string& labels) {
  auto at = labels.find("le=\"");
  if (at == std::string::npos)
    return std::nullopt;
  auto end = labels.find('"', at + 4);
  return labels.substr(at + 4, end - at - 4);
}

} // namespace detail

inline exposition parse_exposition(const std::string& text) {
  exposition out;
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
  static const std::set<std::string> types{"counter", "gauge", "histogram", "summary",
                                           "untyped"};
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto where = "line " + std::to_string(n) + " '" + line + "': ";
    if (line.empty()) {
      out.problems.push_back(where + "empty line");
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      size_t i = 7;
      auto name = detail::read_name(line, i);
      if (name.empty() || i >= line.size() || line[i] != ' ') {
        out.problems.push_back(where + "malformed comment");
        continue;
      }
      if (line[2] == 'H') {
        if (!helped.insert(name).second)
          out.problems.push_back(where + "second HELP");
        continue;
      }
      auto type = line.substr(i + 1);
      if (types.count(type) == 0)
        out.problems.push_back(where + "unknown type");
      if (out.types.count(name) != 0)
        out.problems.push_back(where + "second TYPE");
      if (helped.count(name) == 0)
        out.problems.push_back(where + "TYPE without HELP");
      out.types[name] = type;
      current = name;
      continue;
    }
    if (line[0] == '#') {
      out.problems.push_back(where + "unknown comment");
      continue;
    }
    size_t i = 0;
    auto name = detail::read_name(line, i);
    std::string labels;
    if (name.empty() || !detail::read_labels(line, i, labels) || i >= line.size()
        || line[i] != ' ') {
      out.problems.push_back(where + "not a sample");
      continue;
    }
    auto raw = line.substr(i + 1);
    std::string family = name;
    for (auto suffix : {"_bucket", "_sum", "_count"})
      if (out.types[current] == "histogram" && name == current + suffix)
        family = current;
    if (family != current)
      out.problems.push_back(where + "sample outside its family ('" + current + "')");
    char* end = nullptr;
    double v = raw == "+Inf"   ? INFINITY
               : raw == "-Inf" ? -INFINITY
                               : std::strtod(raw.c_str(), &end);
    if (raw.empty() || (end != nullptr && *end != '\0'))
      out.problems.push_back(where + "not a number");
    if (!out.samples.emplace(name + labels, v).second)
      out.problems.push_back(where + "duplicate sample");
    if (out.types[family] != "histogram")
      continue;
    auto& h = hists[family];
    if (name == family + "_bucket") {
      if (auto le = detail::le_of(labels))
        h.buckets.emplace_back(*le, v);
      else
        out.problems.push_back(where + "bucket without le");
    } else if (name == family + "_count") {
      h.count = v;
    } else {
      h.sum = true;
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
