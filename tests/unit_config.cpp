// Unit tests of ipcd's config file (DESIGN §9): the design's example, and every error naming the
// file, the key and the reason, from a parsed document and from files on disk.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "policy.hpp"

namespace ipcd {
namespace {

ipc::ServiceName name(const std::string& text) { return ipc::ServiceName(text); }

// The ConfigError a callable throws, or a failure when it throws nothing (or something else).
template <typename F>
ConfigError config_error_of(F&& f, const std::string& what) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": not a ConfigError: " << e.what();
    return ConfigError("?", "?", "?");
  }
  ADD_FAILURE() << what << ": no error";
  return ConfigError("?", "?", "?");
}

// A private temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ipcd-config-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] std::string write(const std::string& file, const std::string& text) const {
    const auto path = path_ / file;
    std::ofstream(path) << text;
    return path.string();
  }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

constexpr const char* design_example = R"({
  "policy": {"in": "deny", "out": "allow"},
  "rules": ["allow in pong tcp:127.0.0.1", "deny out * tcp:*.example.org"],
  "redirects": {"authd": "nextversion-authd"},
  "routes": {"pong": "tcp://pong.example.com:9000/pong"}
})";

TEST(TheConfigFile, OfTheDesignGivesTheExpectedPolicy) {
  const auto config = parse_config(nlohmann::json::parse(design_example), "ipcd.json");
  const Policy& policy = config.policy;
  ASSERT_EQ(policy.rules().size(), 2u);
  EXPECT_EQ(policy.rules()[0].text(), "allow in pong tcp:127.0.0.1");
  EXPECT_EQ(policy.rules()[1].text(), "deny out * tcp:*.example.org");
  EXPECT_EQ(policy.rules()[1].direction(), Direction::out);

  EXPECT_EQ(policy.check_in(name("pong"), RemotePeer{ipc::Scheme::tcp, "127.0.0.1", 40000, "", ""}).because,
            "rule 1: allow in pong tcp:127.0.0.1");
  EXPECT_EQ(policy.check_in(name("pong"), RemotePeer{ipc::Scheme::tcp, "192.0.2.1", 40000, "", ""}).because,
            "default in deny");
  EXPECT_EQ(policy.check_out(name("x"), ipc::Uri::parse("tcp://a.example.org/x"), {}).action, Action::deny);
  EXPECT_EQ(policy.check_out(name("x"), ipc::Uri::parse("tcp://a.example.com/x"), {}).because, "default out allow");

  const auto resolved = policy.resolve(name("authd"));
  EXPECT_EQ(resolved.service.str(), "nextversion-authd");
  EXPECT_EQ(resolved.hops, (std::vector<std::string>{"authd", "nextversion-authd"}));
  ASSERT_NE(policy.route(name("pong")), nullptr);
  EXPECT_EQ(*policy.route(name("pong")), ipc::Uri::parse("tcp://pong.example.com:9000/pong"));
  EXPECT_FALSE(config.timeout_seconds);

  // the policy shows itself as the file it came from
  EXPECT_EQ(policy.to_json(), nlohmann::json::parse(design_example));
}

TEST(TheConfigFile, ReadsATimeoutInSeconds) {
  EXPECT_EQ(parse_config(nlohmann::json::parse(R"({"timeout": 10})"), "f").timeout_seconds, 10.0);
  EXPECT_EQ(parse_config(nlohmann::json::parse(R"({"timeout": 2.5})"), "f").timeout_seconds, 2.5);
  EXPECT_EQ(parse_config(nlohmann::json::parse(R"({"timeout": 0.001})"), "f").timeout_seconds, 0.001);
}

TEST(TheConfigFile, HasOnlyOptionalKeys) {
  const auto config = parse_config(nlohmann::json::object(), "empty.json");
  EXPECT_TRUE(config.policy.rules().empty());
  EXPECT_FALSE(config.timeout_seconds);
  EXPECT_EQ(config.policy.to_json(), Policy{}.to_json());

  const auto only_in = parse_config(nlohmann::json::parse(R"({"policy": {"in": "allow"}, "rules": [],
                                                               "redirects": {}, "routes": {}})"),
                                    "f");
  EXPECT_EQ(only_in.policy.to_json()["policy"], nlohmann::json::parse(R"({"in": "allow", "out": "allow"})"));
  const auto only_out = parse_config(nlohmann::json::parse(R"({"policy": {"out": "deny"}})"), "f");
  EXPECT_EQ(only_out.policy.to_json()["policy"], nlohmann::json::parse(R"({"in": "deny", "out": "deny"})"));
}

TEST(TheConfigFile, KeepsTheRulesInTheirOrder) {
  const auto config =
      parse_config(nlohmann::json::parse(
                       R"({"rules": ["deny in pong tcp:10.0.0.0/8", "allow in pong tcp:*", "allow out * uid:0"]})"),
                   "f");
  const RemotePeer inside{ipc::Scheme::tcp, "10.1.2.3", 1, "", ""};
  EXPECT_EQ(config.policy.check_in(name("pong"), inside).because, "rule 1: deny in pong tcp:10.0.0.0/8");
  EXPECT_EQ(config.policy.check_in(name("pong"), RemotePeer{ipc::Scheme::tcp, "192.0.2.1", 1, "", ""}).because,
            "rule 2: allow in pong tcp:*");
  EXPECT_EQ(config.policy.check_out(name("pong"), ipc::Uri::parse("pong"), {0, 0, 1, {}}).because,
            "rule 3: allow out * uid:0");
}

TEST(TheConfigFile, ErrorReadsFileKeyAndReason) {
  const ConfigError error("/etc/ipc/ipcd.json", "rules[2]", "unknown action 'permit'");
  EXPECT_STREQ(error.what(), "/etc/ipc/ipcd.json: rules[2]: unknown action 'permit'");
  EXPECT_EQ(error.key(), "rules[2]");

  const auto parsed = config_error_of(
      [] {
        (void)parse_config(nlohmann::json::parse(R"({"rules": ["allow in * *", "deny out * *", "permit in pong *"]})"),
                           "/etc/ipc/ipcd.json");
      },
      "permit");
  EXPECT_EQ(parsed.key(), "rules[2]");
  EXPECT_EQ(std::string(parsed.what()).rfind("/etc/ipc/ipcd.json: rules[2]: unknown action 'permit'", 0), 0u)
      << parsed.what();
}

TEST(TheConfigFile, NamesTheKeyOfEveryError) {
  struct Case {
    std::string document, key, says;
  };
  const std::vector<Case> cases{
      // the document
      {R"([])", "(document)", "expected a JSON object"},
      {R"("rules")", "(document)", "expected a JSON object"},
      {R"(42)", "(document)", "expected a JSON object"},
      {R"(null)", "(document)", "expected a JSON object"},
      // unknown keys
      {R"({"colour": 1})", "colour", "unknown key"},
      {R"({"Rules": []})", "Rules", "unknown key"},
      {R"({"rules": [], "timeout": 1, "extra": {}})", "extra", "unknown key"},
      // policy
      {R"({"policy": "deny"})", "policy", "expected an object"},
      {R"({"policy": ["in", "deny"]})", "policy", "expected an object"},
      {R"({"policy": {"in": "maybe"}})", "policy.in", "expected \"allow\" or \"deny\", not \"maybe\""},
      {R"({"policy": {"in": "Deny"}})", "policy.in", "not \"Deny\""},
      {R"({"policy": {"out": 1}})", "policy.out", "expected \"allow\" or \"deny\""},
      {R"({"policy": {"out": null}})", "policy.out", "expected \"allow\" or \"deny\""},
      {R"({"policy": {"out": true}})", "policy.out", "expected \"allow\" or \"deny\""},
      {R"({"policy": {"sideways": "allow"}})", "policy.sideways", "unknown key"},
      // rules
      {R"({"rules": "allow in * *"})", "rules", "expected an array"},
      {R"({"rules": {"0": "allow in * *"}})", "rules", "expected an array"},
      {R"({"rules": ["allow in pong *", 7]})", "rules[1]", "expected a string"},
      {R"({"rules": [["allow", "in", "pong", "*"]]})", "rules[0]", "expected a string"},
      {R"({"rules": ["permit in pong *"]})", "rules[0]", "unknown action 'permit'"},
      {R"({"rules": ["allow in pong"]})", "rules[0]", "expected four words"},
      {R"({"rules": ["allow in ../x *"]})", "rules[0]", "invalid service pattern '../x'"},
      {R"({"rules": ["allow in pong uid:0"]})", "rules[0]", "only fit out rules"},
      {R"({"rules": ["allow out pong user:no-such-user-here"]})", "rules[0]", "no user named"},
      {R"({"rules": ["allow in * *", "allow in pong tcp:10.0.0.0/33"]})", "rules[1]", "CIDR prefix"},
      // redirects
      {R"({"redirects": []})", "redirects", "expected an object"},
      {R"({"redirects": "a b"})", "redirects", "expected an object"},
      {R"({"redirects": {"a": 1}})", "redirects.a", "expected a string"},
      {R"({"redirects": {"a": {"to": "b"}}})", "redirects.a", "expected a string"},
      {R"({"redirects": {"../a": "b"}})", "redirects.../a", "invalid service name"},
      {R"({"redirects": {"a": "ftp://x/y"}})", "redirects.a", "unknown scheme 'ftp'"},
      {R"({"redirects": {"a": "../b"}})", "redirects.a", ""},
      {R"({"redirects": {"authd": "tcp://host:99999/authd"}})", "redirects.authd", ""},
      // routes
      {R"({"routes": []})", "routes", "expected an object"},
      {R"({"routes": {"pong": 9000}})", "routes.pong", "expected a string"},
      {R"({"routes": {"pong": "tcp://host:99999/pong"}})", "routes.pong", ""},
      {R"({"routes": {"pong": "tcp://:9000/pong"}})", "routes.pong", ""},
      {R"({"routes": {"pong": "gopher://host/pong"}})", "routes.pong", "unknown scheme 'gopher'"},
      {R"({"routes": {"pong": "tcp://host"}})", "routes.pong", ""},
      {R"({"routes": {"a b": "tcp://host/pong"}})", "routes.a b", "invalid service name"},
      // timeout
      {R"({"timeout": "10"})", "timeout", "expected a number"},
      {R"({"timeout": null})", "timeout", "expected a number"},
      {R"({"timeout": [10]})", "timeout", "expected a number"},
      {R"({"timeout": 0})", "timeout", "expected a number"},
      {R"({"timeout": -1})", "timeout", "expected a number"},
  };
  for (const auto& c : cases) {
    const auto error =
        config_error_of([&] { (void)parse_config(nlohmann::json::parse(c.document), "ipcd.json"); }, c.document);
    EXPECT_EQ(error.key(), c.key) << c.document << " -> " << error.what();
    const std::string what = error.what();
    EXPECT_EQ(what.rfind("ipcd.json: " + c.key + ": ", 0), 0u) << c.document << " -> " << what;
    EXPECT_NE(what.find(c.says), std::string::npos) << c.document << " -> " << what << " (wanted " << c.says << ")";
    EXPECT_GT(what.size(), ("ipcd.json: " + c.key + ": ").size()) << c.document << ": no reason";
  }
}

TEST(TheConfigFile, LoadsFromDisk) {
  const TempDir dir;
  const auto file = dir.write("ipcd.json", std::string(design_example) + "\n");
  const auto config = load_config(file);
  EXPECT_EQ(config.policy.to_json(), nlohmann::json::parse(design_example));
}

TEST(TheConfigFile, TakesCommentsOfBothKinds) {
  const TempDir dir;
  const auto file = dir.write("ipcd.json", "// ipcd on this host\n/* remote peers may\n   reach pong */\n"
                                           "{\"rules\": [\"allow in pong *\"] // and nothing else\n}\n");
  EXPECT_EQ(load_config(file).policy.rules().size(), 1u);
}

TEST(TheConfigFile, ThatIsMissingIsAFileError) {
  const TempDir dir;
  const std::string file = (dir.path() / "absent.json").string();
  const auto error = config_error_of([&] { (void)load_config(file); }, file);
  EXPECT_EQ(error.key(), "(file)");
  EXPECT_STREQ(error.what(), (file + ": (file): " + std::strerror(ENOENT)).c_str());
}

TEST(TheConfigFile, ThatIsADirectoryIsAFileError) {
  const TempDir dir;
  const std::string file = dir.path().string();
  const auto error = config_error_of([&] { (void)load_config(file); }, file);
  EXPECT_EQ(error.key(), "(file)");
  EXPECT_STREQ(error.what(), (file + ": (file): not a regular file (a directory)").c_str());
}

TEST(TheConfigFile, ThatIsADeviceOrAFifoIsRefusedWithoutReadingOrWaiting) {
  // /dev/zero never ends; a FIFO with no writer would block the reader (on SIGHUP, ipcd's loop).
  const TempDir dir;
  const std::string fifo = (dir.path() / "ipcd.json").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  for (const auto& [file, kind] : {std::pair<std::string, std::string>{"/dev/zero", "a character device"}, {fifo, "a FIFO"}}) {
    const auto error = config_error_of([&] { (void)load_config(file); }, file);
    EXPECT_EQ(error.key(), "(file)");
    EXPECT_STREQ(error.what(), (file + ": (file): not a regular file (" + kind + ")").c_str());
  }
}

TEST(TheConfigFile, ThatIsTooLargeIsRefusedBeforeItIsRead) {
  const TempDir dir;
  const auto file = dir.write("huge.json", "");
  ASSERT_EQ(::truncate(file.c_str(), 16 * 1024 * 1024 + 1), 0);  // sparse: nothing is written
  const auto error = config_error_of([&] { (void)load_config(file); }, file);
  EXPECT_EQ(error.key(), "(file)");
  EXPECT_NE(std::string(error.what()).find("larger than 16777216 bytes"), std::string::npos) << error.what();
}

TEST(TheConfigFile, WithASyntaxErrorNamesTheParsersMessage) {
  const TempDir dir;
  const std::vector<std::string> broken{"{\"rules\": [", "", "{\"rules\": [\"a\",]}", "{'rules': []}", "{} {}"};
  for (const auto& text : broken) {
    const auto file = dir.write("broken.json", text);
    const auto error = config_error_of([&] { (void)load_config(file); }, text);
    EXPECT_EQ(error.key(), "(syntax)") << text;
    const std::string what = error.what();
    EXPECT_EQ(what.rfind(file + ": (syntax): ", 0), 0u) << what;
    EXPECT_NE(what.find("parse error"), std::string::npos) << what;
  }
}

TEST(TheConfigFile, OnDiskNamesItselfAndTheKeyOfABadValue) {
  const TempDir dir;
  const auto file = dir.write("ipcd.json", R"({"routes": {"pong": "tcp://pong.example.com:9000/pong"},
                                               "rules": ["allow in pong *", "allow in pong *", "permit in pong *"]})");
  const auto error = config_error_of([&] { (void)load_config(file); }, file);
  EXPECT_EQ(error.key(), "rules[2]");
  EXPECT_EQ(std::string(error.what()).rfind(file + ": rules[2]: unknown action 'permit'", 0), 0u) << error.what();
}

// --- the design's example and errors naming the file and the key --------------------------

TEST(Config, ParsesTheDesignExample) {
  const auto config = parse_config(nlohmann::json::parse(R"({
    "policy": {"in": "deny", "out": "allow"},
    "rules": ["allow in pong tcp:127.0.0.1", "deny out * tcp:*.example.org"],
    "redirects": {"authd": "nextversion-authd"},
    "routes": {"pong": "tcp://pong.example.com:9000/pong"},
    "timeout": 2.5})"),
                                   "ipcd.json");
  EXPECT_EQ(config.policy.rules().size(), 2u);
  EXPECT_EQ(config.policy.resolve(name("authd")).service.str(), "nextversion-authd");
  EXPECT_EQ(config.policy.route(name("pong"))->host(), "pong.example.com");
  EXPECT_EQ(config.timeout_seconds, 2.5);
}

TEST(Config, NamesTheFileTheKeyAndTheReasonForEveryError) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"([])", "ipcd.json: (document): expected a JSON object"},
      {R"({"colour": 1})", "ipcd.json: colour: unknown key"},
      {R"({"policy": "deny"})", "ipcd.json: policy: expected an object"},
      {R"({"policy": {"in": "maybe"}})", "ipcd.json: policy.in: expected \"allow\" or \"deny\""},
      {R"({"policy": {"out": 1}})", "ipcd.json: policy.out: expected"},
      {R"({"policy": {"sideways": "allow"}})", "ipcd.json: policy.sideways: unknown key"},
      {R"({"rules": "allow in * *"})", "ipcd.json: rules: expected an array"},
      {R"({"rules": ["allow in pong *", 7]})", "ipcd.json: rules[1]: expected a string"},
      {R"({"rules": ["permit in pong *"]})", "ipcd.json: rules[0]: unknown action 'permit'"},
      {R"({"redirects": []})", "ipcd.json: redirects: expected an object"},
      {R"({"redirects": {"a": 1}})", "ipcd.json: redirects.a: expected a string"},
      {R"({"redirects": {"../a": "b"}})", "ipcd.json: redirects.../a: redirect: invalid service name"},
      {R"({"redirects": {"a": "ftp://x/y"}})", "ipcd.json: redirects.a: invalid URI"},
      {R"({"routes": {"pong": "tcp://host:99999/pong"}})", "ipcd.json: routes.pong: invalid URI"},
      {R"({"timeout": "10"})", "ipcd.json: timeout: expected a number"},
      {R"({"timeout": -1})", "ipcd.json: timeout: expected a number"},
  };
  for (const auto& [text, says] : cases) {
    try {
      (void)parse_config(nlohmann::json::parse(text), "ipcd.json");
      ADD_FAILURE() << text << ": parsed";
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(says, 0), 0u) << text << " -> " << e.what();
    }
  }
}

TEST(Config, ReportsUnreadableFilesAndSyntaxErrors) {
  try {
    (void)load_config("/nonexistent/ipcd.json");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "(file)");
  }
  char path[] = "/tmp/ipcd-config-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "{\"rules\": [";
  try {
    (void)load_config(path);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "(syntax)");
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
  ::unlink(path);
}

}  // namespace
}  // namespace ipcd
