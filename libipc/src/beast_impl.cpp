// Boost.Beast's implementation, compiled once for every program (BOOST_BEAST_SEPARATE_COMPILATION),
// beside Asio's (asio_impl.cpp).
#include <boost/beast/src.hpp>
