// folio-llamacpp-reference: records llama.cpp's tokenizer and greedy-decoding behaviour as JSON
// fixtures for Folio's own Rust GGUF tokenizer / decoder tests.
//
// Developer tool only (CI never builds it). Built by scripts/build-llamacpp against the libllama
// it builds; uses the nlohmann/json header vendored in llama.cpp.
//
// Usage:
//   folio-llamacpp-reference tokenize --model M.gguf --samples samples.json
//                            [--model-id ID] [--sha256 HEX]
//   folio-llamacpp-reference generate --model M.gguf --prompts prompts.json
//                            [--model-id ID] [--sha256 HEX] [--n-predict 64] [--threads 2]
//                            [--ctx 4096]
//
// samples.json: a JSON array of strings.
// prompts.json: a JSON array of {"name": str, "prompt": str} (prompt = raw text with any chat
//               template already applied).
//
// Output (stdout): one JSON document. Token pieces / decoded texts that are not valid UTF-8 on
// their own (e.g. a byte-fallback token holding half of a multi-byte character) are written as an
// array of byte values instead of a string.

#include "llama.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef FOLIO_LLAMACPP_VERSION
#define FOLIO_LLAMACPP_VERSION "unknown"
#endif

using json = nlohmann::ordered_json;

namespace {

bool valid_utf8(const std::string & s) {
    size_t i = 0, n = s.size();
    while (i < n) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t len;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        else if ((c >> 5) == 0x6) { len = 2; cp = c & 0x1F; }
        else if ((c >> 4) == 0xE) { len = 3; cp = c & 0x0F; }
        else if ((c >> 3) == 0x1E) { len = 4; cp = c & 0x07; }
        else return false;
        if (i + len > n) return false;
        for (size_t k = 1; k < len; k++) {
            unsigned char cc = static_cast<unsigned char>(s[i + k]);
            if ((cc >> 6) != 0x2) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += len;
    }
    return true;
}

// A string if valid UTF-8, else the raw bytes as an array of integers.
json text_or_bytes(const std::string & s) {
    if (valid_utf8(s)) return json(s);
    json arr = json::array();
    for (unsigned char c : s) arr.push_back(static_cast<int>(c));
    return arr;
}

std::string read_file(const std::string & path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<llama_token> tokenize(const llama_vocab * vocab, const std::string & text, bool add_special,
                                  bool parse_special) {
    // With an empty buffer llama_tokenize returns -(number of tokens), or 0 when there are none.
    int n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), nullptr, 0, add_special, parse_special);
    if (n == 0) return {};
    std::vector<llama_token> ids(n < 0 ? -n : n);
    int m = llama_tokenize(vocab, text.data(), (int32_t) text.size(), ids.data(), (int32_t) ids.size(), add_special,
                           parse_special);
    if (m < 0) throw std::runtime_error("llama_tokenize failed");
    ids.resize(m);
    return ids;
}

std::string piece(const llama_vocab * vocab, llama_token id, bool special) {
    std::vector<char> buf(256);
    int n = llama_token_to_piece(vocab, id, buf.data(), (int32_t) buf.size(), 0, special);
    if (n < 0) {
        buf.resize(-n);
        n = llama_token_to_piece(vocab, id, buf.data(), (int32_t) buf.size(), 0, special);
    }
    if (n < 0) throw std::runtime_error("llama_token_to_piece failed");
    return std::string(buf.data(), n);
}

std::string detokenize(const llama_vocab * vocab, const std::vector<llama_token> & ids, bool remove_special,
                       bool unparse_special) {
    std::vector<char> buf(ids.size() * 16 + 64);
    int n = llama_detokenize(vocab, ids.data(), (int32_t) ids.size(), buf.data(), (int32_t) buf.size(), remove_special,
                             unparse_special);
    if (n < 0) {
        buf.resize(-n);
        n = llama_detokenize(vocab, ids.data(), (int32_t) ids.size(), buf.data(), (int32_t) buf.size(), remove_special,
                             unparse_special);
    }
    if (n < 0) throw std::runtime_error("llama_detokenize failed");
    return std::string(buf.data(), n);
}

json pieces_json(const llama_vocab * vocab, const std::vector<llama_token> & ids) {
    json arr = json::array();
    for (llama_token id : ids) arr.push_back(text_or_bytes(piece(vocab, id, /*special=*/true)));
    return arr;
}

json meta_str(const llama_model * model, const char * key) {
    std::vector<char> buf(1 << 16);
    int n = llama_model_meta_val_str(model, key, buf.data(), buf.size());
    if (n < 0) return nullptr;
    if ((size_t) n >= buf.size()) {
        buf.resize(n + 1);
        n = llama_model_meta_val_str(model, key, buf.data(), buf.size());
    }
    return text_or_bytes(std::string(buf.data(), n));
}

json token_or_null(llama_token id) {
    return id == LLAMA_TOKEN_NULL ? json(nullptr) : json(id);
}

json tokenizer_info(const llama_model * model, const llama_vocab * vocab) {
    json info;
    for (const char * key : {"general.architecture", "general.name", "tokenizer.ggml.model", "tokenizer.ggml.pre",
                             "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token",
                             "tokenizer.ggml.add_space_prefix", "tokenizer.ggml.bos_token_id",
                             "tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                             "tokenizer.ggml.padding_token_id", "tokenizer.ggml.unknown_token_id"}) {
        info["gguf"][key] = meta_str(model, key);
    }
    info["gguf"]["has_chat_template"] = !meta_str(model, "tokenizer.chat_template").is_null();
    static const std::map<int, const char *> types = {
        {LLAMA_VOCAB_TYPE_NONE, "none"}, {LLAMA_VOCAB_TYPE_SPM, "spm"}, {LLAMA_VOCAB_TYPE_BPE, "bpe"},
        {LLAMA_VOCAB_TYPE_WPM, "wpm"},   {LLAMA_VOCAB_TYPE_UGM, "ugm"}, {LLAMA_VOCAB_TYPE_RWKV, "rwkv"},
    };
    auto it = types.find((int) llama_vocab_type(vocab));
    info["effective"]["vocab_type"] = it == types.end() ? "other" : it->second;
    info["effective"]["n_tokens"] = llama_vocab_n_tokens(vocab);
    info["effective"]["add_bos"] = llama_vocab_get_add_bos(vocab);
    info["effective"]["add_eos"] = llama_vocab_get_add_eos(vocab);
    info["effective"]["bos"] = token_or_null(llama_vocab_bos(vocab));
    info["effective"]["eos"] = token_or_null(llama_vocab_eos(vocab));
    info["effective"]["eot"] = token_or_null(llama_vocab_eot(vocab));
    info["effective"]["pad"] = token_or_null(llama_vocab_pad(vocab));
    info["effective"]["nl"] = token_or_null(llama_vocab_nl(vocab));
    json eog = json::array();
    for (llama_token id = 0; id < llama_vocab_n_tokens(vocab); id++) {
        if (llama_vocab_is_eog(vocab, id)) eog.push_back(id);
    }
    info["effective"]["eog_ids"] = eog;
    return info;
}

json header(const std::string & model_id, const std::string & sha256) {
    json j;
    j["model"] = model_id;
    j["gguf_sha256"] = sha256;
    j["llama_cpp_version"] = FOLIO_LLAMACPP_VERSION;
    return j;
}

int cmd_tokenize(const llama_model * model, const std::string & model_id, const std::string & sha256,
                 const std::string & samples_path) {
    const llama_vocab * vocab = llama_model_get_vocab(model);
    json samples = json::parse(read_file(samples_path));
    json out = header(model_id, sha256);
    out["tokenizer"] = tokenizer_info(model, vocab);
    out["fields"] =
        "ids_plain: add_special=false, parse_special=false; ids_special: add_special=true, parse_special=true; "
        "pieces_*: llama_token_to_piece(special=true, lstrip=0) per id; "
        "detok_plain: llama_detokenize(ids_plain, remove_special=false, unparse_special=false); "
        "detok_special: llama_detokenize(ids_special, remove_special=false, unparse_special=true); "
        "a piece/text that is not valid UTF-8 is given as an array of byte values";
    json cases = json::array();
    for (const auto & s : samples) {
        const std::string text = s.get<std::string>();
        auto plain = tokenize(vocab, text, false, false);
        auto special = tokenize(vocab, text, true, true);
        json c;
        c["text"] = text;
        c["ids_plain"] = plain;
        c["ids_special"] = special;
        c["pieces_plain"] = pieces_json(vocab, plain);
        c["pieces_special"] = pieces_json(vocab, special);
        c["detok_plain"] = text_or_bytes(detokenize(vocab, plain, false, false));
        c["detok_special"] = text_or_bytes(detokenize(vocab, special, false, true));
        cases.push_back(c);
    }
    out["cases"] = cases;
    std::printf("%s\n", out.dump(1).c_str());
    return 0;
}

int cmd_generate(llama_model * model, const std::string & model_id, const std::string & sha256,
                 const std::string & prompts_path, int n_predict, int n_threads, int n_ctx) {
    const llama_vocab * vocab = llama_model_get_vocab(model);
    json prompts = json::parse(read_file(prompts_path));
    json out = header(model_id, sha256);
    out["tokenizer"] = tokenizer_info(model, vocab);
    out["chat_template"] = meta_str(model, "tokenizer.chat_template");
    out["settings"] = {
        {"tokenize", "add_special=true (BOS/EOS only as the GGUF metadata says), parse_special=true"},
        {"sampling", "greedy: argmax over the logits of the last position, first index wins ties, no penalties"},
        {"n_predict", n_predict},
        {"stop", "at the first end-of-generation token (llama_vocab_is_eog); it is included in generated_ids"},
        {"generated_text", "llama_detokenize(generated ids without the EOG token, remove_special=false, unparse_special=true)"},
        {"top1_top2_logit_margin", "per generated step: largest minus second-largest logit (4 decimals); a small margin marks a step where a slightly different but correct implementation may legitimately pick another token"},
        {"n_threads", n_threads},
        {"n_ctx", n_ctx},
    };
    json cases = json::array();
    for (const auto & p : prompts) {
        const std::string name = p.at("name").get<std::string>();
        const std::string text = p.at("prompt").get<std::string>();
        std::vector<llama_token> prompt_ids = tokenize(vocab, text, true, true);

        llama_context_params cparams = llama_context_default_params();
        cparams.n_ctx = n_ctx;
        cparams.n_batch = n_ctx;
        cparams.n_ubatch = 512;
        cparams.n_threads = n_threads;
        cparams.n_threads_batch = n_threads;
        cparams.no_perf = true;
        llama_context * ctx = llama_init_from_model(model, cparams);
        if (!ctx) throw std::runtime_error("llama_init_from_model failed");

        std::vector<llama_token> tokens = prompt_ids;
        std::vector<llama_token> gen;
        std::vector<double> margins;  // top-1 minus top-2 logit at each step
        bool stopped_by_eog = false;
        llama_batch batch = llama_batch_get_one(tokens.data(), (int32_t) tokens.size());
        for (int i = 0; i < n_predict; i++) {
            if (llama_decode(ctx, batch) != 0) throw std::runtime_error("llama_decode failed");
            const float * logits = llama_get_logits_ith(ctx, -1);
            const int n_vocab = llama_vocab_n_tokens(vocab);
            llama_token best = 0;
            for (llama_token t = 1; t < n_vocab; t++) {
                if (logits[t] > logits[best]) best = t;
            }
            float second = -INFINITY;
            for (llama_token t = 0; t < n_vocab; t++) {
                if (t != best && logits[t] > second) second = logits[t];
            }
            gen.push_back(best);
            margins.push_back(std::round((logits[best] - second) * 1e4) / 1e4);
            if (llama_vocab_is_eog(vocab, best)) {
                stopped_by_eog = true;
                break;
            }
            tokens.assign(1, best);
            batch = llama_batch_get_one(tokens.data(), 1);
        }
        llama_free(ctx);

        std::vector<llama_token> gen_text_ids = gen;
        if (stopped_by_eog) gen_text_ids.pop_back();
        json c;
        c["name"] = name;
        c["prompt"] = text;
        c["prompt_ids"] = prompt_ids;
        c["generated_ids"] = gen;
        c["stopped_by_eog"] = stopped_by_eog;
        c["top1_top2_logit_margin"] = margins;
        c["generated_pieces"] = pieces_json(vocab, gen);
        c["generated_text"] = text_or_bytes(detokenize(vocab, gen_text_ids, false, true));
        cases.push_back(c);
        std::fprintf(stderr, "[%s] %s: %zu prompt ids, %zu generated\n", model_id.c_str(), name.c_str(),
                     prompt_ids.size(), gen.size());
    }
    out["cases"] = cases;
    std::printf("%s\n", out.dump(1).c_str());
    return 0;
}

void quiet_log(enum ggml_log_level level, const char * text, void *) {
    if (level >= GGML_LOG_LEVEL_WARN) std::fputs(text, stderr);
}

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: folio-llamacpp-reference tokenize --model M.gguf --samples S.json [--model-id ID] [--sha256 H]\n"
                 "       folio-llamacpp-reference generate --model M.gguf --prompts P.json [--model-id ID] [--sha256 H]\n"
                 "                                [--n-predict 64] [--threads 2] [--ctx 4096]\n"
                 "       folio-llamacpp-reference version\n");
    std::exit(2);
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc < 2) usage();
    const std::string cmd = argv[1];
    if (cmd == "version") {
        std::printf("%s\n", FOLIO_LLAMACPP_VERSION);
        return 0;
    }
    std::map<std::string, std::string> opt;
    for (int i = 2; i < argc; i++) {
        std::string a = argv[i];
        if (a.rfind("--", 0) != 0 || i + 1 >= argc) usage();
        opt[a.substr(2)] = argv[++i];
    }
    auto get = [&](const std::string & k, const std::string & def) {
        auto it = opt.find(k);
        return it == opt.end() ? def : it->second;
    };
    const std::string model_path = get("model", "");
    if (model_path.empty()) usage();
    const std::string model_id = get("model-id", model_path);
    const std::string sha256 = get("sha256", "");

    llama_log_set(quiet_log, nullptr);
    llama_backend_init();
    llama_model_params mparams = llama_model_default_params();
    mparams.n_gpu_layers = 0;
    mparams.vocab_only = (cmd == "tokenize");
    llama_model * model = llama_model_load_from_file(model_path.c_str(), mparams);
    if (!model) {
        std::fprintf(stderr, "failed to load %s\n", model_path.c_str());
        return 1;
    }
    int rc;
    try {
        if (cmd == "tokenize") {
            rc = cmd_tokenize(model, model_id, sha256, get("samples", ""));
        } else if (cmd == "generate") {
            rc = cmd_generate(model, model_id, sha256, get("prompts", ""), std::stoi(get("n-predict", "64")),
                              std::stoi(get("threads", "2")), std::stoi(get("ctx", "4096")));
        } else {
            usage();
        }
    } catch (const std::exception & e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        rc = 1;
    }
    llama_model_free(model);
    llama_backend_free();
    return rc;
}
