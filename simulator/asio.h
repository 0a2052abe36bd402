// Boost.Asio for the simulator. Boost 1.74's awaitable.hpp uses std::exchange
// without including <utility>, so it is included first, here, once.
#pragma once

#include <utility>

#include <boost/asio.hpp>

namespace kumasim {
namespace asio = boost::asio;
}  // namespace kumasim
