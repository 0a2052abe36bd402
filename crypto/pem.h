// In-memory PEM, as DKP manifests carry TLS material (base64 of PEM, decoded
// in memory, never written to a file): the shipper's TLS client and the
// validator read it the same way.
#pragma once

#include "crypto/openssl_ptr.h"

#include <string>

namespace kumasim::openssl {

// A read-only memory BIO over `pem` (which must outlive it); null only when out of memory.
Bio memory_bio(const std::string& pem);

// A pem_password_cb whose `user` is a const std::string* holding keyPass. An
// empty keyPass is no password, so an encrypted key fails instead of OpenSSL
// prompting on the terminal; one longer than OpenSSL's buffer fails too.
int key_password(char* buffer, int size, int rwflag, void* user);

}  // namespace kumasim::openssl
