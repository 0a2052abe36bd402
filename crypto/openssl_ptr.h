// Owning pointers for OpenSSL objects: each one freed by its own function.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace kumasim::openssl {

template <auto Free>
struct FreeWith {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};

template <class T, auto Free>
using Ptr = std::unique_ptr<T, FreeWith<Free>>;

using Key = Ptr<EVP_PKEY, EVP_PKEY_free>;
using Cert = Ptr<X509, X509_free>;
using Bio = Ptr<BIO, BIO_free_all>;
using Bignum = Ptr<BIGNUM, BN_free>;
using GeneralNames = Ptr<GENERAL_NAMES, GENERAL_NAMES_free>;

}  // namespace kumasim::openssl
