// Unit tests of the common flags' parsing: --config, and the default config file a daemon reads
// when it exists (tcpd's /etc/ipc/tcpd.json).
#include <gtest/gtest.h>

#include <fstream>
#include <ipc/command_line.hpp>

#include "support/harness.hpp"

namespace ipc::test {
namespace {

po::variables_map parse(CommandLine& command_line, std::vector<std::string> args) {
  args.insert(args.begin(), "prog");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return command_line.parse(static_cast<int>(argv.size()), argv.data());
}

CommandLine daemon_flags(const std::filesystem::path& default_file) {
  CommandLine command_line("prog", "[OPTIONS]", "test");
  command_line.enable_config(default_file);
  command_line.options().add_options()("name", po::value<std::string>()->default_value("pong"), "a name");
  return command_line;
}

TEST(CommandLine, ReadsTheDefaultConfigFileWhenItExists) {
  TempDir dir;
  std::ofstream(dir / "prog.json") << R"({"name": "from-default"})";
  auto command_line = daemon_flags(dir / "prog.json");
  const auto flags = parse(command_line, {});
  EXPECT_EQ(flags["name"].as<std::string>(), "from-default");
  EXPECT_EQ(command_line.common().config, dir / "prog.json");
}

TEST(CommandLine, LetsFlagsAndAnExplicitConfigWinOverTheDefaultFile) {
  TempDir dir;
  std::ofstream(dir / "prog.json") << R"({"name": "from-default"})";
  std::ofstream(dir / "other.json") << R"({"name": "from-other"})";
  auto explicit_file = daemon_flags(dir / "prog.json");
  EXPECT_EQ(parse(explicit_file, {"--config", (dir / "other.json").string()})["name"].as<std::string>(), "from-other");
  auto flag = daemon_flags(dir / "prog.json");
  EXPECT_EQ(parse(flag, {"--name", "from-flag"})["name"].as<std::string>(), "from-flag");
}

TEST(CommandLine, TakesCommentsInTheConfigFile) {
  TempDir dir;
  std::ofstream(dir / "prog.json") << "// which name\n{\"name\": /* the second */ \"echo2\"}\n";
  auto command_line = daemon_flags(dir / "prog.json");
  EXPECT_EQ(parse(command_line, {})["name"].as<std::string>(), "echo2");
}

TEST(CommandLine, TurnsAConfigFileIntoTheFlagsItStandsFor) {
  po::options_description options;
  options.add_options()("name", po::value<std::string>(), "")("listen", po::value<std::vector<std::string>>(), "")(
      "allow", po::value<std::vector<std::string>>()->multitoken(), "")("quiet", "")("timeout", po::value<double>(), "");
  using Tokens = std::vector<std::string>;
  EXPECT_EQ(config_tokens(R"({"name": "echo2", "timeout": 2.5, "quiet": true})", options),
            (Tokens{"--name", "echo2", "--quiet", "--timeout", "2.5"}));
  EXPECT_EQ(config_tokens(R"({"listen": ["a:1", "b:2"], "quiet": false, "timeout": 3})", options),
            (Tokens{"--listen", "a:1", "--listen", "b:2", "--timeout", "3"}));
  EXPECT_EQ(config_tokens(R"({"allow": [["in", "pong", "*"]]})", options), (Tokens{"--allow", "in", "pong", "*"}));
  const std::vector<std::pair<std::string, std::string>> bad{
      {"", "not valid JSON"},
      {"[1]", "expected a JSON object"},
      {R"({"frobnicate": 1})", "unknown key 'frobnicate'"},
      {R"({"": "echo "})", "unknown key ''"},  // (found by fuzzing: Program_options' "ambiguous" escaped)
      {R"({"n": "echo"})", "unknown key 'n'"},
      {R"({"config": "/etc/x"})", "key 'config' is not allowed"},
      {R"({"help": true})", "key 'help' is not allowed"},
      {R"({"quiet": 1})", "key 'quiet': expected true or false"},
      {R"({"name": {"a": 1}})", "key 'name': expected a string or a number"},
      {R"({"name": null})", "key 'name': expected a string or a number"},
      {R"({"name": "x" /* unclosed)", "not valid JSON"},
  };
  for (const auto& [text, says] : bad) {
    try {
      (void)config_tokens(text, options);
      ADD_FAILURE() << text << ": taken";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << text << ": " << e.what();
    }
  }
}

TEST(CommandLine, GoesWithoutTheDefaultConfigFileWhenThereIsNone) {
  TempDir dir;
  auto command_line = daemon_flags(dir / "missing.json");
  EXPECT_EQ(parse(command_line, {})["name"].as<std::string>(), "pong");
  EXPECT_TRUE(command_line.common().config.empty());
}

CommandLine seconds_flags() {
  CommandLine command_line("prog", "[OPTIONS]", "test");
  command_line.options().add_options()("wait", po::value<double>()->default_value(5), "seconds");
  return command_line;
}

TEST(CommandLine, ReadsSecondsWithFractionsUpToADay) {
  auto command_line = seconds_flags();
  EXPECT_EQ(seconds_flag(command_line, parse(command_line, {"--wait", "0.25"}), "wait"), std::chrono::milliseconds(250));
  EXPECT_EQ(seconds_flag(command_line, parse(command_line, {"--wait", "86400"}), "wait"), std::chrono::hours(24));
  // A fraction of a millisecond is not 0 ("never" where 0 is allowed).
  EXPECT_EQ(seconds_flag(command_line, parse(command_line, {"--wait", "0.0001"}), "wait", true),
            std::chrono::milliseconds(1));
  EXPECT_EQ(seconds_flag(command_line, parse(command_line, {"--wait", "0"}), "wait", true), std::chrono::milliseconds(0));
}

TEST(CommandLine, RefusesSecondsOutOfRangeWithStatusTwo) {
  for (const std::string value : {"0", "-1", "86401", "nan", "inf"}) {
    EXPECT_EXIT(
        {
          auto command_line = seconds_flags();
          (void)seconds_flag(command_line, parse(command_line, {"--wait", value}), "wait");
        },
        ::testing::ExitedWithCode(2), "prog: --wait: more than 0 to 86400 seconds")
        << value;
  }
  EXPECT_EXIT(
      {
        auto command_line = seconds_flags();
        (void)seconds_flag(command_line, parse(command_line, {"--wait", "-0.5"}), "wait", true);
      },
      ::testing::ExitedWithCode(2), "prog: --wait: from 0 to 86400 seconds");
}

}  // namespace
}  // namespace ipc::test
