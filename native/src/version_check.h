// The load-time ggml check as a pure function, so its decision and message can be tested with any values.
#pragma once

#include <cstring>
#include <string>

namespace rw {

// The addon is compiled against ggml headers of one release and links the prebuilt libggml-base of
// node-llama-cpp: struct layouts and type tables must agree, so any other version or commit is refused.
// Returns "" when the loaded library is the one built against, else the refusal message.
inline std::string ggml_mismatch(const char* built_version, const char* built_commit, const char* lib_version,
                                 const char* lib_commit) {
  if (std::strcmp(built_version, lib_version) == 0 && std::strcmp(built_commit, lib_commit) == 0) return "";
  return std::string("rw_lrp: ggml mismatch: the addon was compiled against ggml ") + built_version + " (commit " +
         built_commit + ") but the loaded libggml-base is " + lib_version + " (commit " + lib_commit +
         "); rebuild with `npm run build:native`";
}

}  // namespace rw
