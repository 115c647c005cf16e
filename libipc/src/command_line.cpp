// Common flags and their parsing (DESIGN §12, §13).
#include "ipc/command_line.hpp"

#include <typeinfo>

#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "ipc/file.hpp"
#include "ipc/rundir.hpp"

#ifndef IPC_VERSION
#define IPC_VERSION "0.0.0"
#endif

namespace ipc {

const char* version() noexcept { return IPC_VERSION; }

CommandLine::CommandLine(std::string program, std::string usage, std::string description)
    : program_(std::move(program)),
      usage_(std::move(usage)),
      description_(std::move(description)),
      own_("Options") {
  set_log_program(program_);
}

void CommandLine::add_positional(const char* name, int max_count) { positional_.add(name, max_count); }

void CommandLine::fail(const std::string& why) const {
  std::cerr << program_ << ": " << why << "\n";
  std::exit(2);
}

po::variables_map CommandLine::parse(int argc, const char* const argv[]) {
  po::options_description common("Common options");
  common.add_options()
      ("help,h", "print this help and exit")
      ("version", "print the version and exit")
      ("rundir", po::value<std::string>()->value_name("DIR"),
       "run directory holding the service sockets (default $IPC_RUNDIR, else /run/ipc)")
      ("log-level", po::value<std::string>()->value_name("LEVEL")->default_value("info"),
       "error, warn, info or debug");
  if (config_enabled_) {
    const std::string help = "JSON file whose keys mirror the long flags (// and /* */ comments allowed); flags win" +
                             (default_config_.empty() ? std::string()
                                                      : " (default " + default_config_.string() + " when it exists)");
    common.add_options()("config", po::value<std::string>()->value_name("FILE"), help.c_str());
  }
  po::options_description all;
  all.add(own_).add(common);

  po::variables_map vm;
  try {
    auto parsed = po::command_line_parser(argc, argv).options(all).positional(positional_).run();
    ordered_ = parsed.options;
    po::store(parsed, vm);
    if (vm.count("help")) {
      std::cout << "Usage: " << program_ << " " << usage_ << "\n\n" << description_ << "\n\n" << all;
      if (!epilog_.empty()) std::cout << "\n" << epilog_;
      std::cout << std::flush;
      std::exit(0);
    }
    if (vm.count("version")) {
      std::cout << program_ << " (ipc suite) " << version() << std::endl;
      std::exit(0);
    }
    if (config_enabled_ && vm.count("config")) {
      common_.config = vm["config"].as<std::string>();
      load_config(vm, all);
    } else if (config_enabled_ && !default_config_.empty() && std::filesystem::exists(default_config_)) {
      common_.config = default_config_;
      load_config(vm, all);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    fail(std::string(e.what()) + " (see --help)");
  }

  // Boost's lexical_cast reads "-5" into an unsigned flag as 2^64-5: no count or size is that large,
  // so such a value is either a negative one or out of any sensible range; the message covers both.
  constexpr std::size_t largest = std::size_t{1} << 62;
  for (const auto& [name, value] : vm) {
    if (value.value().type() == typeid(std::size_t) && value.as<std::size_t>() > largest)
      fail("--" + name + ": expected a number from 0 to " + std::to_string(largest));
  }

  const auto level_text = vm["log-level"].as<std::string>();
  const auto level = parse_log_level(level_text);
  if (!level) fail("invalid --log-level '" + level_text + "' (expected error, warn, info or debug)");
  common_.log_level = *level;
  set_log_level(*level);

  if (vm.count("rundir")) {
    common_.rundir = vm["rundir"].as<std::string>();
    if (common_.rundir.empty()) fail("--rundir must not be empty");
  } else {
    common_.rundir = default_rundir();
  }
  return vm;
}

std::vector<std::string> config_tokens(std::string_view text, const po::options_description& options) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) throw std::invalid_argument("expected a JSON object");
  std::vector<std::string> tokens;
  auto scalar = [&](const std::string& key, const nlohmann::json& v) -> std::string {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    if (v.is_number()) return v.dump();
    throw std::invalid_argument("key '" + key + "': expected a string or a number");
  };
  for (const auto& [key, value] : doc.items()) {
    if (key == "config" || key == "help" || key == "version")
      throw std::invalid_argument("key '" + key + "' is not allowed in a config file");
    const po::option_description* option = nullptr;
    try {
      option = key.empty() ? nullptr : options.find_nothrow(key, false);
    } catch (const po::error&) {  // (a key that is a prefix of several flags: no flag either)
    }
    if (option == nullptr) throw std::invalid_argument("unknown key '" + key + "'");
    if (option->semantic()->max_tokens() == 0) {  // a switch
      if (!value.is_boolean()) throw std::invalid_argument("key '" + key + "': expected true or false");
      if (value.get<bool>()) tokens.push_back("--" + key);
      continue;
    }
    const auto items = value.is_array() ? value : nlohmann::json::array({value});
    for (const auto& item : items) {
      tokens.push_back("--" + key);
      if (item.is_array()) {
        for (const auto& part : item) tokens.push_back(scalar(key, part));
      } else {
        tokens.push_back(scalar(key, item));
      }
    }
  }
  return tokens;
}

// The config file's tokens are stored after the command line, so that flags given on the
// command line win (po::store keeps the first value it sees).
void CommandLine::load_config(po::variables_map& vm, const po::options_description& all) {
  const auto& path = common_.config;
  std::string text;
  try {
    text = read_regular_file(path, max_config_file_bytes);
  } catch (const std::runtime_error& e) {
    fail("cannot read config file " + path.string() + ": " + e.what());
  }
  try {
    po::store(po::command_line_parser(config_tokens(text, all)).options(all).run(), vm);
  } catch (const std::invalid_argument& e) {
    fail("config file " + path.string() + ": " + e.what());
  } catch (const po::error& e) {
    fail("config file " + path.string() + ": " + e.what());
  }
}

std::chrono::milliseconds seconds_flag(const CommandLine& command_line, const po::variables_map& flags, const char* name,
                                       bool zero_allowed) {
  const double value = flags[name].as<double>();
  if (!(value >= 0) || value > 86400 || (value == 0 && !zero_allowed))
    command_line.fail(std::string("--") + name + ": " + (zero_allowed ? "from 0" : "more than 0") +
                      " to 86400 seconds");
  auto duration = std::chrono::milliseconds(static_cast<long long>(value * 1000));
  // A fraction of a millisecond is not "never".
  if (value > 0 && duration.count() == 0) duration = std::chrono::milliseconds(1);
  return duration;
}

}  // namespace ipc
