// ipcd's LOOKUP payload, "SERVICE;ROUTES" from any local client (DESIGN §5), planned with a fixed
// policy exactly as ipcd plans it (Broker::plan_lookup: the name, the client's routes,
// redirections, static routes, the out rules). Properties: a plan names a valid service and a
// destination that prints and parses to itself; none is ever a reserved name (ipc, tcp,
// NAME@adopt...); and under `deny out secret *` no spelling, alias or route reaches `secret`
// allowed. Anything refused is refused with an ipc::Error.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <ipc/error.hpp>
#include <ipc/broker.hpp>
#include <ipc/service_name.hpp>

#include "broker.hpp"
#include "check.hpp"

namespace {

ipcd::Broker& broker() {
  static const std::unique_ptr<ipcd::Broker> instance = [] {
    ipcd::BrokerSettings settings;
    settings.rundir = "/nonexistent/fuzz";
    ipcd::PolicySource source;
    auto config = ipcd::parse_config(nlohmann::json::parse(R"({
      "rules": ["deny out secret *", "deny out * tcp:10.0.0.0/8", "allow out * *"],
      "redirects": {"alias": "secret", "old": "new", "new": "old", "away": "tls://far.example:1/secret",
                    "fine": "pong"},
      "routes": {"far": "tcp://far.example:9000/secret", "pong": "tcp://near.example/pong"}
    })"), "fuzz.json");
    return std::make_unique<ipcd::Broker>(settings, source, std::move(config));
  }();
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const ipcd::ClientCredentials client{1000, 1000, 42, {}};
  try {
    const ipcd::Plan plan = broker().plan_lookup(payload, client);
    FUZZ_CHECK(ipc::ServiceName::why_invalid(plan.requested.str()).empty());
    FUZZ_CHECK(ipc::why_reserved(plan.requested.str()).empty());
    FUZZ_CHECK(ipc::Uri::parse(plan.destination.str_with_secrets()) == plan.destination);
    if (plan.destination.is_local()) FUZZ_CHECK(ipc::why_reserved(plan.destination.service().str()).empty());
    FUZZ_CHECK(!plan.decision.because.empty());
    if (plan.decision.action == ipcd::Action::allow) {
      FUZZ_CHECK(plan.requested.str() != "secret");
      FUZZ_CHECK(plan.destination.service().str() != "secret");
    }
  } catch (const ipc::Error&) {
    // Refused with a code and a reason: what the client is sent.
  }
  return 0;
}
