// PromQL: a Pratt parser into an expression tree, evaluated step by step over samples read once
// per selector for the whole query range. Functions follow Prometheus' definitions
// (promql/functions.go): rate, increase and delta extrapolate to the window's edges, irate
// takes the last two samples, a counter that drops is taken to have reset.
#include "query/query.h"
#include "storage/sync.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <re2/re2.h>
#include <set>

namespace foresight::query {
namespace {

using storage::SeriesInfo;

constexpr int64_t kMs = 1'000'000;

// --- Names ---------------------------------------------------------------------------------------

std::string Sanitize(std::string_view name, bool colon_ok) {
  std::string out(name);
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const bool ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
                    (colon_ok && c == ':') ||
                    (i > 0 && std::isdigit(static_cast<unsigned char>(c)));
    if (!ok) out[i] = '_';
  }
  return out.empty() ? "_" : out;
}

PromLabels LabelsOf(const SeriesInfo& info) {
  PromLabels labels;
  const std::string name = info.key.field == "value" ? info.key.measurement
                                                     : info.key.measurement + "_" + info.key.field;
  labels.emplace_back("__name__", Sanitize(name, true));
  for (const auto& [k, v] : info.key.tags) labels.emplace_back(Sanitize(k, false), v);
  std::sort(labels.begin(), labels.end());
  return labels;
}

// A tenant's series with their labels, made once per series snapshot: every query matches its
// selectors against all of them, and naming 100,000 series anew each time would dominate it.
struct LabelledSeries {
  std::shared_ptr<const std::vector<SeriesInfo>> series;
  std::vector<PromLabels> labels;  // by index into *series
};

// Keyed by storage and tenant, checked by snapshot: the cache holds each snapshot it names, so
// a snapshot's address cannot come back for another one.
Mutex labelled_mu;
std::map<std::pair<const storage::Storage*, storage::TenantId>,
         std::shared_ptr<const LabelledSeries>>
    labelled_cache FORESIGHT_GUARDED_BY(labelled_mu);

std::shared_ptr<const LabelledSeries> Labelled(const storage::Storage& storage,
                                               storage::TenantId tenant) {
  std::shared_ptr<const std::vector<SeriesInfo>> snapshot = storage.SeriesSnapshot(tenant);
  {
    MutexLock l(&labelled_mu);
    auto it = labelled_cache.find({&storage, tenant});
    if (it != labelled_cache.end() && it->second->series == snapshot) return it->second;
  }
  auto made = std::make_shared<LabelledSeries>();
  made->series = std::move(snapshot);
  made->labels.reserve(made->series->size());
  for (const SeriesInfo& info : *made->series) made->labels.push_back(LabelsOf(info));
  MutexLock l(&labelled_mu);
  labelled_cache[{&storage, tenant}] = made;
  return made;
}

std::string_view LabelValue(const PromLabels& labels, std::string_view name) {
  for (const auto& [k, v] : labels) {
    if (k == name) return v;
  }
  return {};
}

// --- Lexer and parser ----------------------------------------------------------------------------

struct Matcher {
  std::string name;
  std::string op;  // = != =~ !~
  std::string value;
  std::shared_ptr<const RE2> regex;  // anchored, as PromQL's are
  bool Matches(const PromLabels& labels) const {
    const std::string_view v = LabelValue(labels, name);
    if (op == "=") return v == value;
    if (op == "!=") return v != value;
    const bool full = RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *regex);
    return op == "=~" ? full : !full;
  }
};

struct Node;
using NodePtr = std::shared_ptr<const Node>;
struct Node {
  enum Kind : uint8_t { kNumber, kSelector, kCall, kAggregate, kBinary, kNegate } kind = kNumber;
  double number = 0;
  std::vector<Matcher> matchers;  // kSelector
  int64_t range_ns = 0;           // kSelector: [range]; 0 for an instant selector
  int64_t offset_ns = 0;
  std::string name;  // kCall, kAggregate; kBinary: the operator
  std::vector<NodePtr> args;
  std::vector<std::string> grouping;
  bool without = false;
  size_t id = 0;  // selectors: the index of their samples
  int depth = 1;  // of the tree below and including this node
};

// Deeper expressions (or parentheses) are refused: parsing, evaluating and freeing a tree
// recurse once per level.
constexpr int kMaxDepth = 128;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<NodePtr> Run() {
    auto e = Expr(0);
    if (!e.ok()) return e;
    Space();
    if (pos_ != text_.size()) return Error("unexpected " + std::string(1, text_[pos_]));
    return e;
  }
  size_t selectors() const { return selectors_; }

 private:
  Status Error(const std::string& what) const {
    return Status::InvalidArgument("parse error at char " + std::to_string(pos_ + 1) + ": " + what);
  }
  void Space() {
    while (pos_ < text_.size()) {
      if (std::isspace(static_cast<unsigned char>(text_[pos_]))) {
        ++pos_;
      } else if (text_[pos_] == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }
  bool Peek(char c) {
    Space();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  bool Accept(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  std::string Identifier() {
    Space();
    size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
                                   text_[pos_] == '_' || text_[pos_] == ':'))
      ++pos_;
    if (start < text_.size() && std::isdigit(static_cast<unsigned char>(text_[start]))) {
      pos_ = start;
      return {};
    }
    return std::string(text_.substr(start, pos_ - start));
  }
  bool Keyword(std::string_view word) {
    Space();
    size_t save = pos_;
    std::string id = Identifier();
    if (id.size() == word.size() &&
        std::equal(id.begin(), id.end(), word.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return true;
    }
    pos_ = save;
    return false;
  }

  Result<std::string> String() {
    Space();
    if (pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\'' && text_[pos_] != '`')) {
      return Error("expected a string");
    }
    const char quote = text_[pos_++];
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      char c = text_[pos_++];
      if (c == '\\' && quote != '`' && pos_ < text_.size()) {
        char e = text_[pos_++];
        out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
      } else {
        out.push_back(c);
      }
    }
    if (pos_ >= text_.size()) return Error("unterminated string");
    ++pos_;
    return out;
  }

  // 5m, 1h30m, 250ms.
  Result<int64_t> Duration() {
    Space();
    int64_t total = 0;
    size_t start = pos_;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(text_.data() + pos_, text_.data() + text_.size(), n);
      if (ec != std::errc()) return Error("duration out of range");
      pos_ = static_cast<size_t>(p - text_.data());
      int64_t unit = 0;
      for (auto [name, ns] :
           {std::pair{"ms", kMs}, std::pair{"s", 1000 * kMs}, std::pair{"m", 60'000 * kMs},
            std::pair{"h", 3'600'000 * kMs}, std::pair{"d", 86'400'000 * kMs},
            std::pair{"w", 604'800'000 * kMs}, std::pair{"y", 31'536'000'000 * kMs}}) {
        std::string_view u = name;
        if (text_.substr(pos_, u.size()) == u && !(u == "m" && text_.substr(pos_, 2) == "ms")) {
          unit = ns;
          pos_ += u.size();
          break;
        }
      }
      if (unit == 0) return Error("expected a duration unit (ms, s, m, h, d, w, y)");
      if (n > std::numeric_limits<int64_t>::max() / unit - total / unit)
        return Error("duration out of range");
      total += n * unit;
    }
    if (pos_ == start || total <= 0) return Error("expected a duration");
    return total;
  }

  static int Precedence(std::string_view op) {
    if (op == "+" || op == "-") return 1;
    if (op == "*" || op == "/" || op == "%") return 2;
    if (op == "^") return 3;
    return 0;
  }

  // Counts the parser's own recursion (parentheses make no node).
  struct Nesting {
    explicit Nesting(int* d) : depth(d) { ++*depth; }
    ~Nesting() { --*depth; }
    int* depth;
  };

  // A node over `args`, or an error past kMaxDepth.
  Result<NodePtr> Over(std::shared_ptr<Node> node) {
    for (const NodePtr& arg : node->args) node->depth = std::max(node->depth, arg->depth + 1);
    if (node->depth > kMaxDepth) return Error("expression nested more than 128 deep");
    return NodePtr(std::move(node));
  }

  Result<NodePtr> Expr(int min_precedence) {
    Nesting nesting(&nesting_);
    if (nesting_ > kMaxDepth) return Error("expression nested more than 128 deep");
    auto left = Unary();
    if (!left.ok()) return left;
    while (true) {
      Space();
      if (pos_ >= text_.size()) break;
      std::string op(1, text_[pos_]);
      const int p = Precedence(op);
      if (p == 0 || p < min_precedence) break;
      ++pos_;
      // ^ is right-associative; the others left.
      auto right = Expr(op == "^" ? p : p + 1);
      if (!right.ok()) return right;
      auto node = std::make_shared<Node>();
      node->kind = Node::kBinary;
      node->name = op;
      node->args = {*left, *right};
      left = Over(std::move(node));
      if (!left.ok()) return left;
    }
    return left;
  }

  Result<NodePtr> Unary() {
    Nesting nesting(&nesting_);
    if (nesting_ > kMaxDepth) return Error("expression nested more than 128 deep");
    if (Accept('-')) {
      auto inner = Unary();
      if (!inner.ok()) return inner;
      auto node = std::make_shared<Node>();
      node->kind = Node::kNegate;
      node->args = {*inner};
      return Over(std::move(node));
    }
    Accept('+');
    auto primary = Primary();
    if (!primary.ok()) return primary;
    // A subquery [range:step] is not in the subset; [range] on a selector is handled there.
    if (Peek('[')) return Error("subqueries and ranges of expressions are not supported");
    if (Keyword("offset")) return Error("offset applies to a selector only");
    return primary;
  }

  Result<NodePtr> Primary() {
    Space();
    if (pos_ >= text_.size()) return Error("unexpected end of input");
    const char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      auto inner = Expr(0);
      if (!inner.ok()) return inner;
      if (!Accept(')')) return Error("expected )");
      return inner;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.' ||
              ((text_[pos_] == '+' || text_[pos_] == '-') && pos_ > start &&
               (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E'))))
        ++pos_;
      const std::string number(text_.substr(start, pos_ - start));
      char* end = nullptr;
      auto node = std::make_shared<Node>();
      node->number = std::strtod(number.c_str(), &end);
      if (end != number.c_str() + number.size()) {
        pos_ = start;
        return Error("invalid number " + number);
      }
      return NodePtr(node);
    }
    if (c == '{') return Selector("");
    const size_t save = pos_;
    std::string name = Identifier();
    if (name.empty()) return Error("unexpected " + std::string(1, c));
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    static const std::set<std::string> kAggregates = {"sum", "avg", "min", "max", "count"};
    static const std::set<std::string> kOtherAggregates = {
        "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group"};
    if (kAggregates.contains(lower) || kOtherAggregates.contains(lower)) {
      if (!kAggregates.contains(lower)) return Error("aggregation " + lower + " is not supported");
      auto node = std::make_shared<Node>();
      node->kind = Node::kAggregate;
      node->name = lower;
      if (Status s = Grouping(node.get()); !s.ok()) return s;
      if (!Accept('(')) return Error("expected ( after " + lower);
      auto inner = Expr(0);
      if (!inner.ok()) return inner;
      if (!Accept(')')) return Error("expected )");
      node->args = {*inner};
      if (node->grouping.empty() && !node->without) {
        if (Status s = Grouping(node.get()); !s.ok()) return s;
      }
      return Over(std::move(node));
    }
    if (Peek('(')) {
      static const std::set<std::string> kFunctions = {"rate",
                                                       "irate",
                                                       "increase",
                                                       "delta",
                                                       "avg_over_time",
                                                       "min_over_time",
                                                       "max_over_time",
                                                       "sum_over_time",
                                                       "count_over_time",
                                                       "last_over_time",
                                                       "quantile_over_time"};
      if (!kFunctions.contains(name)) return Error("function " + name + "() is not supported");
      ++pos_;
      auto node = std::make_shared<Node>();
      node->kind = Node::kCall;
      node->name = name;
      if (!Peek(')')) {
        do {
          auto arg = Expr(0);
          if (!arg.ok()) return arg;
          node->args.push_back(*arg);
        } while (Accept(','));
      }
      if (!Accept(')')) return Error("expected )");
      const size_t wanted = name == "quantile_over_time" ? 2 : 1;
      if (node->args.size() != wanted) {
        return Error(name + "() takes " + std::to_string(wanted) + " argument(s)");
      }
      const Node& range = *node->args.back();
      if (range.kind != Node::kSelector || range.range_ns == 0) {
        return Error(name + "() needs a range vector such as metric[5m]");
      }
      if (wanted == 2 && node->args[0]->kind != Node::kNumber) {
        return Error("quantile_over_time() needs a number first");
      }
      return Over(std::move(node));
    }
    pos_ = save;
    return Selector(Identifier());
  }

  Status Grouping(Node* node) {
    if (Keyword("by")) {
      node->without = false;
    } else if (Keyword("without")) {
      node->without = true;
    } else {
      return Status::OK();
    }
    if (!Accept('(')) return Error("expected ( after by/without");
    if (!Peek(')')) {
      do {
        std::string label = Identifier();
        if (label.empty()) return Error("expected a label name");
        node->grouping.push_back(label);
      } while (Accept(','));
    }
    if (!Accept(')')) return Error("expected )");
    std::sort(node->grouping.begin(), node->grouping.end());
    return Status::OK();
  }

  Result<NodePtr> Selector(std::string name) {
    auto node = std::make_shared<Node>();
    node->kind = Node::kSelector;
    node->id = selectors_++;
    if (!name.empty()) node->matchers.push_back({"__name__", "=", name, nullptr});
    if (Accept('{')) {
      while (!Peek('}')) {
        Matcher m;
        m.name = Identifier();
        if (m.name.empty()) return Error("expected a label name");
        Space();
        for (std::string_view op : {"=~", "!~", "!=", "="}) {
          if (text_.substr(pos_, op.size()) == op) {
            m.op = std::string(op);
            pos_ += op.size();
            break;
          }
        }
        if (m.op.empty()) return Error("expected =, !=, =~ or !~");
        auto value = String();
        if (!value.ok()) return value.status();
        m.value = *value;
        if (m.op == "=~" || m.op == "!~") {
          RE2::Options options;
          options.set_log_errors(false);
          auto re = std::make_shared<const RE2>(m.value, options);
          if (!re->ok()) return Error("invalid regex " + m.value + ": " + re->error());
          m.regex = std::move(re);
        }
        node->matchers.push_back(std::move(m));
        if (!Accept(',')) break;
      }
      if (!Accept('}')) return Error("expected }");
    }
    if (node->matchers.empty()) return Error("a selector needs a metric name or a matcher");
    if (Accept('[')) {
      auto range = Duration();
      if (!range.ok()) return range.status();
      if (Accept(':')) return Error("subqueries are not supported");
      if (!Accept(']')) return Error("expected ]");
      node->range_ns = *range;
    }
    if (Keyword("offset")) {
      const bool negative = Accept('-');
      auto offset = Duration();
      if (!offset.ok()) return offset.status();
      node->offset_ns = negative ? -*offset : *offset;
    }
    if (Peek('@')) return Error("the @ modifier is not supported");
    return NodePtr(node);
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t selectors_ = 0;
  int nesting_ = 0;
};

// --- Evaluation ----------------------------------------------------------------------------------

// a - b, saturated: offsets and ranges may be as long as a query can say.
int64_t Minus(int64_t a, int64_t b) {
  int64_t out;
  if (!__builtin_sub_overflow(a, b, &out)) return out;
  return b > 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
}

// A value at one step: a scalar, or an instant vector.
struct Element {
  PromLabels labels;
  double value = 0;
};
struct Value {
  bool scalar = false;
  double number = 0;
  std::vector<Element> vector;
};

struct Loaded {
  PromLabels labels;
  std::vector<int64_t> ts;
  std::vector<double> values;
};

class Evaluator {
 public:
  Evaluator(const storage::Storage& storage, storage::TenantId tenant, const PromOptions& options)
      : storage_(storage),
        tenant_(tenant),
        options_(options),
        deadline_(std::chrono::steady_clock::now() + options.timeout) {}

  // Reads every selector's series over what the steps from `start` to `end` look at.
  Status Load(const NodePtr& root, size_t selectors, int64_t start, int64_t end) {
    loaded_.resize(selectors);
    labelled_ = Labelled(storage_, tenant_);
    return LoadNode(*root, start, end);
  }

  // The samples of a range selector at `t`, by series.
  std::vector<PromSeries> RangeSamples(const Node& n, int64_t t) const {
    std::vector<PromSeries> out;
    const int64_t at = Minus(t, n.offset_ns);
    for (const Loaded& l : loaded_[n.id]) {
      auto [a, b] = Window(l, Minus(at, n.range_ns), at);
      if (a == b) continue;
      PromSeries s{l.labels, {}};
      for (size_t i = a; i < b; ++i) s.samples.push_back({l.ts[i], l.values[i]});
      out.push_back(std::move(s));
    }
    return out;
  }

  Result<Value> Eval(const Node& n, int64_t t) {
    if (std::chrono::steady_clock::now() > deadline_) {
      return Status::InvalidArgument("query timed out after " +
                                     std::to_string(options_.timeout.count()) + " ms");
    }
    switch (n.kind) {
      case Node::kNumber:
        return Value{true, n.number, {}};
      case Node::kSelector:
        if (n.range_ns)
          return Status::InvalidArgument("a range vector must be passed to a function");
        return Instant(n, t);
      case Node::kNegate: {
        auto v = Eval(*n.args[0], t);
        if (!v.ok()) return v;
        if (v->scalar) {
          v->number = -v->number;
        } else {
          for (Element& e : v->vector) {
            e.value = -e.value;
            DropName(&e.labels);
          }
        }
        return v;
      }
      case Node::kBinary:
        return Binary(n, t);
      case Node::kCall:
        return Call(n, t);
      case Node::kAggregate:
        return Aggregate(n, t);
    }
    return Status::Internal("unknown node");
  }

 private:
  Status LoadNode(const Node& n, int64_t start, int64_t end) {
    for (const NodePtr& arg : n.args) {
      if (Status s = LoadNode(*arg, start, end); !s.ok()) return s;
    }
    if (n.kind != Node::kSelector) return Status::OK();
    const int64_t window = n.range_ns ? n.range_ns : options_.lookback_ns;
    const int64_t from = Minus(Minus(start, n.offset_ns), window),
                  to = Minus(Minus(end, n.offset_ns), -1);
    for (size_t i = 0; i < catalog().size(); ++i) {
      if (catalog()[i].type == storage::ValueType::kString) continue;
      if (!std::all_of(n.matchers.begin(), n.matchers.end(),
                       [&](const Matcher& m) { return m.Matches(labelled_->labels[i]); }))
        continue;
      if (++series_ > options_.max_series) {
        return Status::InvalidArgument("the query would read more than " +
                                       std::to_string(options_.max_series) +
                                       " series (query.max_series): narrow its selectors");
      }
      const int64_t read_from = std::max(from, storage::kMinTimestampNs),
                    read_to = std::min(to, storage::kMaxTimestampNs);
      if (read_from >= read_to) continue;
      Loaded l;
      l.labels = labelled_->labels[i];
      // An instant selector needs only the newest sample at or before `end`: the series' newest
      // point whenever that is not after `end`.
      if (start == end && n.range_ns == 0) {
        auto latest = storage_.ReadLatest(tenant_, catalog()[i].id);
        if (!latest.ok() && latest.status().code() != Status::Code::kNotFound) {
          return latest.status();
        }
        if (!latest.ok()) continue;  // an empty series
        if (latest->ts_ns[0] < read_to) {
          if (latest->ts_ns[0] >= read_from) {
            ++points_;
            l.ts.push_back(latest->ts_ns[0]);
            l.values.push_back(latest->AsDouble(0));
            loaded_[n.id].push_back(std::move(l));
          }
          continue;
        }
      }
      auto points = storage_.ReadRaw(tenant_, catalog()[i].id, read_from, read_to);
      if (!points.ok()) return points.status();
      points_ += points->size();
      if (points_ > options_.max_points) {
        return Status::InvalidArgument("the query would read more than " +
                                       std::to_string(options_.max_points) +
                                       " points (query.max_points): shorten its range");
      }
      l.ts = std::move(points->ts_ns);
      l.values.resize(l.ts.size());
      for (size_t k = 0; k < l.ts.size(); ++k) l.values[k] = points->AsDouble(k);
      loaded_[n.id].push_back(std::move(l));
    }
    return Status::OK();
  }

  static void DropName(PromLabels* labels) {
    std::erase_if(*labels, [](const auto& l) { return l.first == "__name__"; });
  }

  // Indices [first, last) of a series' samples in (from, to].
  static std::pair<size_t, size_t> Window(const Loaded& l, int64_t from, int64_t to) {
    auto a = std::upper_bound(l.ts.begin(), l.ts.end(), from) - l.ts.begin();
    auto b = std::upper_bound(l.ts.begin(), l.ts.end(), to) - l.ts.begin();
    return {static_cast<size_t>(a), static_cast<size_t>(b)};
  }

  Value Instant(const Node& n, int64_t t) {
    Value v;
    const int64_t at = Minus(t, n.offset_ns);
    for (const Loaded& l : loaded_[n.id]) {
      auto [a, b] = Window(l, Minus(at, options_.lookback_ns), at);
      if (a < b) v.vector.push_back({l.labels, l.values[b - 1]});
    }
    return v;
  }

  Result<Value> Call(const Node& n, int64_t t) {
    const Node& sel = *n.args.back();
    const int64_t at = Minus(t, sel.offset_ns);
    const int64_t from = Minus(at, sel.range_ns);
    const double range_s = static_cast<double>(sel.range_ns) / 1e9;
    Value out;
    for (const Loaded& l : loaded_[sel.id]) {
      auto [a, b] = Window(l, from, at);
      const size_t count = b - a;
      if (count == 0) continue;
      std::optional<double> r;
      const double* v = l.values.data() + a;
      const int64_t* ts = l.ts.data() + a;
      const std::string& f = n.name;
      if (f == "rate" || f == "increase" || f == "delta") {
        if (count < 2) continue;
        const bool counter = f != "delta";
        double result = v[count - 1] - v[0];
        if (counter) {
          for (size_t i = 1; i < count; ++i) {
            if (v[i] < v[i - 1]) result += v[i - 1];  // a reset: the counter restarted from 0
          }
        }
        double to_start = static_cast<double>(ts[0] - from) / 1e9;
        const double to_end = static_cast<double>(at - ts[count - 1]) / 1e9;
        const double sampled = static_cast<double>(ts[count - 1] - ts[0]) / 1e9;
        const double average = sampled / static_cast<double>(count - 1);
        if (counter && result > 0 && v[0] >= 0) {
          to_start = std::min(to_start, sampled * (v[0] / result));
        }
        const double threshold = average * 1.1;
        double interval = sampled;
        interval += to_start < threshold ? to_start : average / 2;
        interval += to_end < threshold ? to_end : average / 2;
        result *= interval / sampled;
        if (f == "rate") result /= range_s;
        r = result;
      } else if (f == "irate") {
        if (count < 2) continue;
        const double last = v[count - 1], prev = v[count - 2];
        const double dt = static_cast<double>(ts[count - 1] - ts[count - 2]) / 1e9;
        r = (last < prev ? last : last - prev) / dt;
      } else if (f == "avg_over_time") {
        double sum = 0;
        for (size_t i = 0; i < count; ++i) sum += v[i];
        r = sum / static_cast<double>(count);
      } else if (f == "sum_over_time") {
        double sum = 0;
        for (size_t i = 0; i < count; ++i) sum += v[i];
        r = sum;
      } else if (f == "min_over_time") {
        r = *std::min_element(v, v + count);
      } else if (f == "max_over_time") {
        r = *std::max_element(v, v + count);
      } else if (f == "count_over_time") {
        r = static_cast<double>(count);
      } else if (f == "last_over_time") {
        r = v[count - 1];
      } else if (f == "quantile_over_time") {
        const double q = n.args[0]->number;
        std::vector<double> sorted(v, v + count);
        std::sort(sorted.begin(), sorted.end());
        if (q < 0) {
          r = -std::numeric_limits<double>::infinity();
        } else if (q > 1) {
          r = std::numeric_limits<double>::infinity();
        } else {
          const double rank = q * static_cast<double>(count - 1);
          const size_t lo = static_cast<size_t>(std::floor(rank));
          const size_t hi = std::min(lo + 1, count - 1);
          const double w = rank - std::floor(rank);
          r = sorted[lo] * (1 - w) + sorted[hi] * w;
        }
      }
      if (!r) continue;
      Element e{l.labels, *r};
      if (f != "last_over_time") DropName(&e.labels);
      out.vector.push_back(std::move(e));
    }
    return out;
  }

  Result<Value> Aggregate(const Node& n, int64_t t) {
    auto inner = Eval(*n.args[0], t);
    if (!inner.ok()) return inner;
    if (inner->scalar) return Status::InvalidArgument(n.name + "() needs an instant vector");
    struct Acc {
      double sum = 0, min = 0, max = 0;
      size_t count = 0;
    };
    std::map<PromLabels, Acc> groups;
    for (const Element& e : inner->vector) {
      PromLabels key;
      for (const auto& [k, v] : e.labels) {
        const bool listed = std::binary_search(n.grouping.begin(), n.grouping.end(), k);
        if (n.without ? (!listed && k != "__name__") : listed) key.emplace_back(k, v);
      }
      Acc& a = groups[key];
      if (a.count == 0) a.min = a.max = e.value;
      a.sum += e.value;
      a.min = std::min(a.min, e.value);
      a.max = std::max(a.max, e.value);
      ++a.count;
    }
    Value out;
    for (auto& [key, a] : groups) {
      double v = n.name == "sum"   ? a.sum
                 : n.name == "avg" ? a.sum / static_cast<double>(a.count)
                 : n.name == "min" ? a.min
                 : n.name == "max" ? a.max
                                   : static_cast<double>(a.count);
      out.vector.push_back({key, v});
    }
    return out;
  }

  Result<Value> Binary(const Node& n, int64_t t) {
    auto left = Eval(*n.args[0], t);
    if (!left.ok()) return left;
    auto right = Eval(*n.args[1], t);
    if (!right.ok()) return right;
    auto apply = [&](double a, double b) {
      switch (n.name[0]) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return a / b;
        case '%':
          return std::fmod(a, b);
        default:
          return std::pow(a, b);
      }
    };
    if (left->scalar && right->scalar) return Value{true, apply(left->number, right->number), {}};
    if (!left->scalar && !right->scalar) {
      return Status::InvalidArgument(
          "arithmetic between two vectors is not supported (only "
          "between a vector and a scalar)");
    }
    Value out = left->scalar ? std::move(*right) : std::move(*left);
    const double s = left->scalar ? left->number : right->number;
    for (Element& e : out.vector) {
      e.value = left->scalar ? apply(s, e.value) : apply(e.value, s);
      DropName(&e.labels);
    }
    return out;
  }

  const storage::Storage& storage_;
  storage::TenantId tenant_;
  const PromOptions& options_;
  std::chrono::steady_clock::time_point deadline_;
  const std::vector<SeriesInfo>& catalog() const { return *labelled_->series; }
  std::shared_ptr<const LabelledSeries> labelled_;
  std::vector<std::vector<Loaded>> loaded_;  // by selector id
  size_t series_ = 0, points_ = 0;
};

Result<PromResult> Evaluate(const storage::Storage& storage, storage::TenantId tenant,
                            std::string_view expr, int64_t start, int64_t end, int64_t step,
                            bool range, const PromOptions& options) {
  Parser parser(expr);
  auto root = parser.Run();
  if (!root.ok()) return root.status();
  if ((*root)->kind == Node::kSelector && (*root)->range_ns && range) {
    return Status::InvalidArgument(
        "a range query needs an instant vector or a scalar, not a "
        "range vector");
  }
  Evaluator evaluator(storage, tenant, options);
  if (Status s = evaluator.Load(*root, parser.selectors(), start, end); !s.ok()) return s;
  PromResult out;
  if (!range) {
    // An instant query of a range selector answers its samples (a matrix).
    const Node& r = **root;
    if (r.kind == Node::kSelector && r.range_ns) {
      out.type = PromResult::Type::kMatrix;
      out.series = evaluator.RangeSamples(r, start);
      return out;
    }
    auto v = evaluator.Eval(r, start);
    if (!v.ok()) return v.status();
    if (v->scalar) {
      out.type = PromResult::Type::kScalar;
      out.series.push_back({{}, {{start, v->number}}});
      return out;
    }
    for (Element& e : v->vector) out.series.push_back({std::move(e.labels), {{start, e.value}}});
    std::sort(out.series.begin(), out.series.end(),
              [](const PromSeries& a, const PromSeries& b) { return a.labels < b.labels; });
    return out;
  }
  out.type = PromResult::Type::kMatrix;
  std::map<PromLabels, std::vector<PromSample>> series;
  size_t samples = 0;
  for (int64_t t = start; t <= end; t += step) {
    auto v = evaluator.Eval(**root, t);
    if (!v.ok()) return v.status();
    samples += v->scalar ? 1 : v->vector.size();
    if (samples > options.max_points) {
      return Status::InvalidArgument("the query would answer more than " +
                                     std::to_string(options.max_points) +
                                     " samples (query.max_points): use a longer step");
    }
    if (v->scalar) {
      series[{}].push_back({t, v->number});
      continue;
    }
    for (Element& e : v->vector) series[std::move(e.labels)].push_back({t, e.value});
    if (end - t < step) break;
  }
  for (auto& [labels, samples] : series) out.series.push_back({labels, std::move(samples)});
  return out;
}

}  // namespace

Result<PromResult> PromInstantQuery(const storage::Storage& storage, storage::TenantId tenant,
                                    std::string_view expr, int64_t time_ns,
                                    const PromOptions& options) {
  return Evaluate(storage, tenant, expr, time_ns, time_ns, 1, false, options);
}

Result<PromResult> PromRangeQuery(const storage::Storage& storage, storage::TenantId tenant,
                                  std::string_view expr, int64_t start_ns, int64_t end_ns,
                                  int64_t step_ns, const PromOptions& options) {
  if (step_ns <= 0)
    return Status::InvalidArgument(
        "zero or negative query resolution step widths are not accepted");
  if (end_ns < start_ns)
    return Status::InvalidArgument("end timestamp must not be before start time");
  if ((static_cast<uint64_t>(end_ns) - static_cast<uint64_t>(start_ns)) /
          static_cast<uint64_t>(step_ns) >=
      options.max_steps) {
    return Status::InvalidArgument("exceeded maximum resolution of " +
                                   std::to_string(options.max_steps) +
                                   " points per timeseries. Try decreasing the query resolution "
                                   "(?step=XX)");
  }
  return Evaluate(storage, tenant, expr, start_ns, end_ns, step_ns, true, options);
}

Result<std::vector<PromLabels>> PromSeriesMatching(const storage::Storage& storage,
                                                   storage::TenantId tenant,
                                                   std::span<const std::string> selectors) {
  std::vector<std::vector<Matcher>> sets;
  for (const std::string& text : selectors) {
    Parser parser(text);
    auto root = parser.Run();
    if (!root.ok()) return root.status();
    if ((*root)->kind != Node::kSelector || (*root)->range_ns) {
      return Status::InvalidArgument("match[] must be a series selector: " + text);
    }
    sets.push_back((*root)->matchers);
  }
  std::set<PromLabels> out;
  const std::shared_ptr<const LabelledSeries> all = Labelled(storage, tenant);
  for (size_t i = 0; i < all->series->size(); ++i) {
    if ((*all->series)[i].type == storage::ValueType::kString) continue;
    const PromLabels& labels = all->labels[i];
    const bool match = sets.empty() || std::any_of(sets.begin(), sets.end(), [&](const auto& m) {
                         return std::all_of(m.begin(), m.end(),
                                            [&](const Matcher& x) { return x.Matches(labels); });
                       });
    if (match) out.insert(labels);
  }
  return std::vector<PromLabels>(out.begin(), out.end());
}

}  // namespace foresight::query
