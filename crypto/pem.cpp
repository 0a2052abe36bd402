#include "crypto/pem.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstring>

namespace kumasim::openssl {

Bio memory_bio(const std::string& pem) { return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); }

int key_password(char* buffer, int size, int, void* user) {
  const auto& password = *static_cast<const std::string*>(user);
  if (password.empty() || password.size() > static_cast<std::size_t>(size)) {
    ERR_raise(ERR_LIB_PEM, PEM_R_PROBLEMS_GETTING_PASSWORD);
    return 0;
  }
  std::memcpy(buffer, password.data(), password.size());
  return static_cast<int>(password.size());
}

}  // namespace kumasim::openssl
