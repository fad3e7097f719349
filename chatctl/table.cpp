#include "table.hpp"

#include <algorithm>

namespace chatctl {

void table::print(std::ostream& out) const {
  std::vector<size_t> width(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) {
    width[c] = headers_[c].size();
    for (auto& r : rows_)
      if (c < r.size())
        width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < headers_.size(); ++c) {
      auto cell = c < cells.size() ? cells[c] : std::string{};
      text += cell;
      if (c + 1 < headers_.size())
        text += std::string(width[c] - cell.size() + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ')
      text.pop_back();
    out << text << '\n';
  };
  line(headers_);
  for (auto& r : rows_)
    line(r);
}

} // namespace chatctl
