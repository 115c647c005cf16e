// The flags every program shares (DESIGN §12, §13) and their parsing, in one place:
// --help, --version, --rundir DIR, --log-level LEVEL, and for daemons --config FILE, a JSON
// object whose keys mirror the long flags (flags given on the command line win).
//
// A bad flag or value exits with status 2 and one line saying which and why.
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/log.hpp"

namespace ipc {

namespace po = boost::program_options;

[[nodiscard]] const char* version() noexcept;

struct CommonOptions {
  std::filesystem::path rundir;
  LogLevel log_level = LogLevel::info;
  std::filesystem::path config;  // empty unless --config was given
};

class CommandLine {
 public:
  // `usage` is the synopsis after the program name, e.g. "[OPTIONS] [SERVICE] [MESSAGE]".
  CommandLine(std::string program, std::string usage, std::string description);

  // The program's own flags.
  po::options_description& options() noexcept { return own_; }
  // Positional arguments, in order; max_count -1 means "the rest".
  void add_positional(const char* name, int max_count);
  // Adds --config FILE (daemons). Without --config, `default_file` is read when it exists (so a
  // packaged daemon finds /etc/ipc/NAME.json without its unit naming it).
  void enable_config(std::filesystem::path default_file = {}) {
    config_enabled_ = true;
    default_config_ = std::move(default_file);
  }
  // Text printed after the flags in --help (examples, environment).
  void set_epilog(std::string text) { epilog_ = std::move(text); }

  // Parses argv (and the config file). Handles --help and --version (prints, exits 0) and every
  // error (prints "program: reason", exits 2). Applies --log-level.
  [[nodiscard]] po::variables_map parse(int argc, const char* const argv[]);

  [[nodiscard]] const CommonOptions& common() const noexcept { return common_; }
  // The command line's options in the order given (for flags whose order matters, like rules).
  [[nodiscard]] const std::vector<po::option>& ordered() const noexcept { return ordered_; }
  // For checks after parsing: prints "program: why" and exits 2.
  [[noreturn]] void fail(const std::string& why) const;

 private:
  void load_config(po::variables_map& vm, const po::options_description& all);

  std::string program_;
  std::string usage_;
  std::string description_;
  std::string epilog_;
  po::options_description own_;
  po::positional_options_description positional_;
  bool config_enabled_ = false;
  std::filesystem::path default_config_;
  CommonOptions common_;
  std::vector<po::option> ordered_;
};

// A daemon's config file as the command-line tokens it stands for: {"key": value} becomes
// "--key value" (an array: the flag repeated; an array in it: a flag's several words; true: a
// switch given, false: not). Comments (// and /* */) are allowed. Throws std::invalid_argument
// saying why: not JSON, not an object, a key `options` does not have (or config, help, version),
// a value of the wrong kind.
[[nodiscard]] std::vector<std::string> config_tokens(std::string_view text, const po::options_description& options);

// A duration flag given in seconds (fractions allowed): more than 0 (or 0 itself when
// `zero_allowed`, where 0 means "never") and at most 86400. Anything else exits 2 saying so.
[[nodiscard]] std::chrono::milliseconds seconds_flag(const CommandLine& command_line, const po::variables_map& flags,
                                                     const char* name, bool zero_allowed = false);

}  // namespace ipc
