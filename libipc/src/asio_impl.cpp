// Boost.Asio compiled once for the whole suite (BOOST_ASIO_SEPARATE_COMPILATION).
#include <boost/asio/impl/src.hpp>
// ...and its TLS part (asio::ssl), for tcpd's and websocketd's contexts and streams.
#include <boost/asio/ssl/impl/src.hpp>
