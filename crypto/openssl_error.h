// OpenSSL's error queue as one line people can read, for every message that
// reports a TLS or certificate failure (simulator, shipper, validator).
#pragma once

#include <string>

namespace kumasim::openssl {

// Empties this thread's error queue into "reason; reason" (system errors as
// their errno text, repeats and bare library names left out), or "unknown
// OpenSSL error" when the queue is empty.
std::string take_errors();

}  // namespace kumasim::openssl
