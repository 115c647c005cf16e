// Boost.Beast's implementation, compiled once for websocketd (BOOST_BEAST_SEPARATE_COMPILATION).
// Asio's own implementation is in libipc (BOOST_ASIO_SEPARATE_COMPILATION).
#include <boost/beast/src.hpp>
