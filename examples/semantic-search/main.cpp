// semantic_search: ranks sentences by meaning against a query, on device.
//
//   semantic_search [--vocab vocab.txt] [--weights minilm.weights]
//                   [--sentences FILE] [--top N] QUERY
//
// all-MiniLM-L6-v2 compiled by canao_add_model (CMakeLists.txt) embeds the
// query and each sentence: WordPiece ids (wordpiece.h), the model's last
// hidden state, mean-pooled over the real tokens and L2-normalized, as
// sentence-transformers does. Sentences come from FILE (one per line) or a
// built-in list. Nothing beyond the C++ standard library and the generated
// code.
#include "minilm.h"
#include "wordpiece.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

const char *const kSentences[] = {
    "A man is playing a guitar on stage.",
    "The new movie is awesome and everyone loves it.",
    "How do I bake bread at home?",
    "Stock markets fell sharply after the announcement.",
    "A woman is slicing vegetables in the kitchen.",
    "The cat sleeps on the warm windowsill.",
    "Our flight to Paris was delayed by three hours.",
    "He scored the winning goal in the last minute.",
    "Regular exercise improves your heart health.",
    "Quantum computers use qubits instead of bits.",
};

int die(const std::string &msg) {
  std::fprintf(stderr, "semantic_search: error: %s\n", msg.c_str());
  return 1;
}

// The model's fixed input shape: batch x seq, from the generated signature.
struct Shape {
  int64_t batch, seq, hidden;
};

// One sentence's embedding: mean of the hidden states of its real tokens,
// L2-normalized.
bool embed(minilm_context *ctx, const canao_example::WordPieceTokenizer &tok,
           const Shape &s, const std::string &text, std::vector<float> &out,
           std::string &err) {
  std::vector<int64_t> ids = tok.encode(text, size_t(s.seq));
  std::vector<int64_t> input(s.batch * s.seq, tok.padId()),
      mask(s.batch * s.seq, 0), types(s.batch * s.seq, 0);
  for (size_t j = 0; j < ids.size(); ++j)
    input[j] = ids[j], mask[j] = 1;
  std::vector<float> hidden(s.batch * s.seq * s.hidden),
      pooled(s.batch * s.hidden);
  canao_tensor in[3], outs[2];
  int64_t *data[3] = {input.data(), mask.data(), types.data()};
  for (int i = 0; i < 3; ++i) {
    const canao_tensor_info &info = minilm_inputs()[i];
    in[i] = {CANAO_INT64, info.rank, {}, nullptr};
    std::copy(info.dims, info.dims + info.rank, in[i].dims);
    // Inputs in signature order; the exporter names them.
    const std::string name = info.name;
    in[i].data = name == "attention_mask"   ? data[1]
                 : name == "token_type_ids" ? data[2]
                                            : data[0];
  }
  float *buffers[2] = {hidden.data(), pooled.data()};
  for (int i = 0; i < MINILM_NUM_OUTPUTS && i < 2; ++i) {
    const canao_tensor_info &info = minilm_outputs()[i];
    outs[i] = {CANAO_FLOAT32, info.rank, {}, buffers[i]};
    std::copy(info.dims, info.dims + info.rank, outs[i].dims);
  }
  if (minilm_run(ctx, in, 3, outs, MINILM_NUM_OUTPUTS) != CANAO_OK) {
    err = minilm_last_error(ctx);
    return false;
  }
  out.assign(s.hidden, 0.0f);
  for (size_t j = 0; j < ids.size(); ++j)
    for (int64_t h = 0; h < s.hidden; ++h)
      out[h] += hidden[j * s.hidden + h];
  double norm = 0.0;
  for (float &v : out) {
    v /= float(ids.size());
    norm += double(v) * v;
  }
  const float inv = float(1.0 / std::max(std::sqrt(norm), 1e-12));
  for (float &v : out)
    v *= inv;
  return true;
}

} // namespace

int main(int argc, char **argv) {
  std::string vocab = MINILM_VOCAB_PATH, weights = MINILM_WEIGHTS_PATH,
              sentencesFile, query;
  size_t top = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string &dst) {
      if (i + 1 >= argc)
        return false;
      dst = argv[++i];
      return true;
    };
    std::string n;
    if (a == "--vocab"       ? !value(vocab)
        : a == "--weights"   ? !value(weights)
        : a == "--sentences" ? !value(sentencesFile)
        : a == "--top"
            ? !value(n) || (top = std::strtoul(n.c_str(), nullptr, 10)) == 0
            : false)
      return die(a + " needs a value (a positive number for --top)");
    if (a == "-h" || a == "--help") {
      std::printf("usage: %s [--vocab vocab.txt] [--weights minilm.weights] "
                  "[--sentences FILE] [--top N] QUERY\n",
                  argv[0]);
      return 0;
    }
    if (a[0] != '-') {
      if (!query.empty())
        return die("give one QUERY (quote it)");
      query = a;
    } else if (a != "--vocab" && a != "--weights" && a != "--sentences" &&
               a != "--top") {
      return die("unknown option " + a);
    }
  }
  if (query.empty())
    return die("no QUERY given (see --help)");

  std::vector<std::string> sentences;
  if (sentencesFile.empty()) {
    sentences.assign(std::begin(kSentences), std::end(kSentences));
  } else {
    std::ifstream f(sentencesFile);
    if (!f)
      return die("cannot read " + sentencesFile);
    for (std::string line; std::getline(f, line);)
      if (!line.empty())
        sentences.push_back(line);
    if (sentences.empty())
      return die(sentencesFile + " has no sentences");
  }

  canao_example::WordPieceTokenizer tok;
  std::string err;
  if (!tok.load(vocab, &err))
    return die(err);
  minilm_context *ctx = nullptr;
  if (minilm_create(weights.c_str(), &ctx) != CANAO_OK) {
    const std::string why = minilm_last_error(ctx);
    minilm_destroy(ctx);
    return die(why);
  }
  const canao_tensor_info &ids = minilm_inputs()[0];
  const canao_tensor_info &hs = minilm_outputs()[0];
  const Shape shape{ids.dims[0], ids.dims[1], hs.dims[hs.rank - 1]};

  std::vector<float> q;
  std::vector<std::pair<float, size_t>> ranked;
  bool ok = embed(ctx, tok, shape, query, q, err);
  for (size_t i = 0; ok && i < sentences.size(); ++i) {
    std::vector<float> e;
    ok = embed(ctx, tok, shape, sentences[i], e, err);
    float dot = 0.0f;
    for (int64_t h = 0; ok && h < shape.hidden; ++h)
      dot += q[h] * e[h];
    ranked.push_back({dot, i});
  }
  minilm_destroy(ctx);
  if (!ok)
    return die(err);
  std::stable_sort(
      ranked.begin(), ranked.end(),
      [](const auto &a, const auto &b) { return a.first > b.first; });
  std::printf("query: %s\n", query.c_str());
  for (size_t r = 0; r < ranked.size() && (top == 0 || r < top); ++r)
    std::printf("%2zu. %+.3f  %s\n", r + 1, ranked[r].first,
                sentences[ranked[r].second].c_str());
  return 0;
}
