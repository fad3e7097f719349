#pragma once

// Plain-text tables for people: left-aligned columns as wide as their widest
// cell, two spaces apart, a header row in capitals.

#include <ostream>
#include <string>
#include <vector>

namespace chatctl {

class table {
public:
  explicit table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  [[nodiscard]] bool empty() const { return rows_.empty(); }

  void print(std::ostream& out) const;

private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

} // namespace chatctl
