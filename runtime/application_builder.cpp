#include <interlock/runtime/application_builder.hpp>

#include <filesystem>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <interlock/actors/aggregate_router.hpp>
#include <interlock/actors/client_actor.hpp>
#include <interlock/actors/journal_inbox.hpp>
#include <interlock/actors/journal_reader.hpp>
#include <interlock/actors/journal_writer.hpp>
#include <interlock/actors/messages.hpp>
#include <interlock/actors/process_driver.hpp>
#include <interlock/actors/projection_actor.hpp>
#include <interlock/actors/read_store_actor.hpp>
#include <interlock/core/detail/utf8.hpp>
#include <interlock/core/log.hpp>
#include <interlock/persistence/journal_watch.hpp>
#include <interlock/persistence/memory_journal.hpp>
#include <interlock/persistence/memory_read_store.hpp>
#include <interlock/persistence/postgres_read_store.hpp>
#include <interlock/persistence/sqlite_read_store.hpp>
#include <interlock/persistence/upcaster.hpp>
#include <interlock/runtime/detail/app_core.hpp>
#include <interlock/runtime/system_config.hpp>

namespace interlock {

namespace {

// The actor system of an application built by application_builder(): CAF
// keeps a reference to its config, so the two live and die together.
struct owned_system {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  owned_system() : sys((tune(cfg), std::make_unique<caf::actor_system>(cfg))) {}
};

}  // namespace

application_builder::application_builder() : upcasters_(std::make_shared<upcaster_chain>()) {
  auto own = std::make_shared<owned_system>();
  sys_ = own->sys.get();
  owned_system_ = std::move(own);
}

application_builder::application_builder(caf::actor_system& sys)
    : sys_(&sys), upcasters_(std::make_shared<upcaster_chain>()) {
  auto configured = settings_from(sys.config());
  if (configured) settings_ = std::move(*configured);
  else config_error_ = std::move(configured.error());
}

application_builder& application_builder::sqlite(std::string path, sync_mode synchronous) {
  settings_.database_path = std::move(path);
  settings_.synchronous = synchronous;
  settings_.in_memory = false;
  settings_.postgres_url.clear();
  factory_ = nullptr;
  return *this;
}

application_builder& application_builder::postgres(std::string url, std::string schema, std::string read_schema) {
  settings_.postgres_url = std::move(url);
  settings_.postgres_schema = std::move(schema);
  if (!read_schema.empty()) settings_.read_store_postgres_schema = std::move(read_schema);
  settings_.in_memory = false;
  factory_ = nullptr;
  return *this;
}

application_builder& application_builder::in_memory() {
  settings_.in_memory = true;
  factory_ = nullptr;
  return *this;
}

application_builder& application_builder::journal(journal_factory factory) {
  factory_ = std::move(factory);
  return *this;
}

void application_builder::add_process(
    std::pair<std::shared_ptr<const detail::projection_kind>, std::shared_ptr<detail::process_link>> p) {
  processes_[p.first->type_name] = std::move(p.second);
  projections_.push_back(std::move(p.first));
}

application_builder& application_builder::settings(runtime_settings s) {
  settings_ = std::move(s);
  return *this;
}

namespace {

journal_factory default_factory(const runtime_settings& s) {
  if (s.in_memory) return memory_journal_factory();
  if (!s.postgres_url.empty()) return postgres_journal_factory(postgres_options{s.postgres_url, s.postgres_schema});
  sqlite_options options{s.database_path, s.synchronous};
  options.category_copies = s.category_copies;
  return sqlite_journal_factory(std::move(options));
}

// The default database lives under ./data/: create the folder, as users expect.
void ensure_parent_directory(const std::string& path) {
  auto parent = std::filesystem::path{path}.parent_path();
  std::error_code ignored;  // an impossible path is reported by the database's open
  if (!parent.empty()) std::filesystem::create_directories(parent, ignored);
}

// The read store follows the journal unless told otherwise (settings.hpp):
// in memory with an in-memory journal or one of the program's own, a schema
// of its own on a PostgreSQL journal's server, else beside the journal file.
read_store_factory default_read_store(const runtime_settings& s, bool own_journal) {
  if (s.read_store_in_memory) return memory_read_store_factory();
  if (!s.read_store_path.empty()) {
    ensure_parent_directory(s.read_store_path);
    return sqlite_read_store_factory(s.read_store_path);
  }
  if (s.in_memory || own_journal) return memory_read_store_factory();
  if (!s.postgres_url.empty()) {
    postgres_read_options options;
    options.url = s.postgres_url;
    options.schema = s.read_store_postgres_schema.empty() ? postgres_read_schema_for(s.postgres_schema)
                                                          : s.read_store_postgres_schema;
    return postgres_read_store_factory(std::move(options));
  }
  return sqlite_read_store_factory(read_store_path_for(s.database_path));
}

// A projection that catches up by type reads its events under every name they
// may be stored under (renames and splits of older types lead to them).
std::shared_ptr<const detail::projection_kind> with_older_names(const detail::projection_kind& kind,
                                                                const upcaster_chain& upcasters) {
  auto copy = std::make_shared<detail::projection_kind>(kind);
  copy->stored_event_types.clear();
  for (auto& b : kind.event_types)
    for (auto& name : upcasters.stored_names_of(b.name))
      if (std::find(copy->stored_event_types.begin(), copy->stored_event_types.end(), name) ==
          copy->stored_event_types.end())
        copy->stored_event_types.push_back(name);
  return copy;
}

template <class Kinds, class Names>
caf::error add_routes(const Kinds& kinds, Names names_of, std::unordered_map<std::string, std::string>& routes,
                      const char* what) {
  for (auto& kind : kinds)
    for (auto& name : names_of(*kind)) {
      auto [it, fresh] = routes.emplace(name, kind->type_name);
      if (!fresh)
        return make_error(errc::invalid_argument, std::string{what} + " " + name + " is handled by both " +
                                                      it->second + " and " + kind->type_name);
    }
  return {};
}

// One event type name must mean one C++ type across the application: the
// journal stores the name only, and projections route by it.
caf::error check_event_names(const std::vector<std::shared_ptr<const detail::aggregate_kind>>& aggregates,
                             const std::vector<std::shared_ptr<const detail::projection_kind>>& projections) {
  std::unordered_map<std::string, std::pair<std::type_index, std::string>> seen;
  auto check = [&](const std::vector<detail::event_binding>& bindings, const std::string& owner) -> caf::error {
    for (auto& b : bindings) {
      auto [it, fresh] = seen.emplace(b.name, std::make_pair(b.type, owner));
      if (!fresh && it->second.first != b.type)
        return make_error(errc::invalid_argument, "event type name " + b.name + " names two different C++ types (in " +
                                                      it->second.second + " and " + owner +
                                                      "); give one of them its own `type_name`");
    }
    return {};
  };
  for (auto& a : aggregates)
    if (auto err = check(a->event_types, a->type_name)) return err;
  for (auto& p : projections)
    if (auto err = check(p->event_types, p->type_name)) return err;
  return {};
}

// The journal stores aggregate and event type names: they must be
// identifiers it takes (utf8.hpp), which a `type_name` pinned by hand may not be.
caf::error check_stored_names(const std::vector<std::shared_ptr<const detail::aggregate_kind>>& aggregates) {
  for (auto& a : aggregates) {
    if (auto why = detail::identifier_problem("aggregate type name", a->type_name); !why.empty())
      return make_error(errc::invalid_argument, why);
    for (auto& e : a->event_types)
      if (auto why = detail::identifier_problem("event type name", e.name); !why.empty())
        return make_error(errc::invalid_argument, "aggregate " + a->type_name + ": " + why);
  }
  return {};
}

template <class Kinds>
caf::error check_unique(const Kinds& kinds, const char* what) {
  std::unordered_map<std::string, int> names;
  for (auto& k : kinds) {
    if (!k->registration_error.empty()) return make_error(errc::invalid_argument, k->registration_error);
    if (++names[k->type_name] == 2)
      return make_error(errc::invalid_argument, std::string{what} + " " + k->type_name + " is registered twice");
  }
  return {};
}

}  // namespace

// Every event type the application reads must have a path from each older
// schema version it may be stored at to its current one.
static caf::error check_upcasters(const upcaster_chain& upcasters,
                                  const std::vector<std::shared_ptr<const detail::aggregate_kind>>& aggregates,
                                  const std::vector<std::shared_ptr<const detail::projection_kind>>& projections) {
  std::map<std::string, event_version_info> current;
  auto add = [&](const std::vector<detail::event_binding>& bindings) {
    for (auto& b : bindings) current.emplace(b.name, event_version_info{b.name, b.schema_version, b.oldest_schema_version});
  };
  for (auto& k : aggregates) add(k->event_types);
  for (auto& k : projections) add(k->event_types);
  std::vector<event_version_info> list;
  for (auto& [name, info] : current) list.push_back(info);
  auto err = upcasters.check(list);
  if (!err) return {};
  return make_error(code_of(err).value_or(errc::invalid_argument), "cannot start: " + message_of(err));
}

static caf::error validate(const runtime_settings& s) {
  auto bad = [](const char* what) { return make_error(errc::invalid_argument, std::string{what}); };
  if (s.max_batch == 0) return bad("setting max_batch must be at least 1");
  if (s.read_batch == 0) return bad("setting read_batch must be at least 1");
  if (s.group_commit_wait.count() < 0) return bad("setting group_commit_wait must not be negative");
  if (s.client_window == 0) return bad("setting client_window must be at least 1");
  if (s.journal_timeout.count() <= 0) return bad("setting journal_timeout must be positive");
  if (s.follow_poll.count() < 0) return bad("setting follow_poll must not be negative");
  if (!s.in_memory && s.postgres_url.empty() && s.database_path.empty()) return bad("setting database_path must not be empty");
  if (s.snapshot_keep == 0) return bad("setting snapshot_keep must be at least 1");
  if (s.passivate_after.count() < 0) return bad("setting passivate_after must not be negative");
  if (!s.log_level.empty() && !log_level_from(s.log_level))
    return bad("setting log_level must be one of quiet, error, warning, info, debug (or empty)");
  return {};
}

// What tells this process of other processes' appends (none: a journal in
// memory, or following turned off).
static caf::expected<std::unique_ptr<journal_watch>> open_watch(journal& j, std::chrono::milliseconds poll) {
  if (poll.count() == 0) return std::unique_ptr<journal_watch>{};
  return j.open_watch();
}

// A process's command, sent as application::submit() sends one. Through the
// client actor, not the application: a driver holding the application could
// be where its last reference dies, and stop() must not run on a scheduler thread.
static void send_decided_command(const caf::actor& client, const std::unordered_map<std::string, std::string>& routes,
                                 const detail::outbox_row& row, std::shared_ptr<const void> body,
                                 const std::type_info& type, command_outcome done) {
  constexpr std::chrono::milliseconds timeout{30'000};
  auto route = routes.find(row.command_type);
  if (route == routes.end())
    return done(make_error(errc::unknown_command, "no registered aggregate handles command " + row.command_type));
  detail::erased_command cmd;
  cmd.aggregate_type = route->second;
  cmd.aggregate_id = row.aggregate_id;
  cmd.command_type = row.command_type;
  cmd.body = std::move(body);
  cmd.body_type = &type;
  cmd.deadline = std::chrono::steady_clock::now() + timeout;
  cmd.command_id = row.command_id;
  cmd.idempotent = true;
  cmd.correlation_id = row.correlation_id;
  cmd.causation_id = row.causation_id;
  if (auto err = detail::check_ids(cmd)) return done(std::move(err));
  auto guarded = std::make_shared<detail::reply_once<detail::erased_reply>>(
      [done = std::move(done)](caf::expected<detail::erased_reply> r) {
        done(r ? caf::expected<std::uint64_t>{r->events > 0 ? r->position : 0} : r.error());
      },
      detail::describe_command(cmd) + ": the application stopped before the reply arrived");
  caf::anon_send(client, detail::command_job{std::move(cmd), timeout, std::move(guarded)});
}

// A process's driver, linked to its instances before they apply anything.
// It holds the application weakly: the user's handle decides when it stops.
static void start_process_driver(detail::app_core& core, const detail::projection_kind& kind,
                                 detail::process_link& link, std::shared_ptr<detail::projection_progress> progress) {
  process_driver_config cfg;
  cfg.name = kind.type_name;
  cfg.instance = std::shared_ptr<detail::process_instance>{
      static_cast<detail::process_instance*>(kind.make().release())};
  cfg.store = core.store;
  cfg.progress = std::move(progress);
  cfg.journal_timeout = core.settings.journal_timeout;
  cfg.send = [client = core.client, routes = core.command_routes](const detail::outbox_row& row,
                                                                   std::shared_ptr<const void> body,
                                                                   const std::type_info& type,
                                                                   command_outcome done) {
    send_decided_command(client, routes, row, std::move(body), type, std::move(done));
  };
  auto driver = spawn_process_driver(*core.sys, std::move(cfg));
  link.publish = [driver](detail::process_news_ptr news) { caf::anon_send(driver, std::move(news)); };
  caf::anon_send(driver, load_outbox_atom::value);  // only now: the news it asks for go through `link`
  core.process_drivers.push_back(std::move(driver));
}

caf::expected<application> application_builder::build() {
  if (config_error_) return config_error_;
  if (auto err = validate(settings_)) return err;
  if (auto err = check_unique(aggregates_, "aggregate")) return err;
  if (auto err = check_stored_names(aggregates_)) return err;
  if (auto err = check_unique(projections_, "projection")) return err;
  if (!settings_.log_level.empty()) set_log_level(*log_level_from(settings_.log_level));
  auto core = std::make_shared<detail::app_core>();
  std::unordered_map<std::string, std::string> query_owner;
  if (auto err = add_routes(aggregates_, [](auto& k) { return k.command_types; }, core->command_routes, "command"))
    return err;
  if (auto err = add_routes(projections_, [](auto& k) { return k.query_types; }, query_owner, "query")) return err;
  if (auto err = check_event_names(aggregates_, projections_)) return err;
  if (auto err = check_upcasters(*upcasters_, aggregates_, projections_)) return err;
  auto factory = factory_ ? factory_ : default_factory(settings_);
  if (!settings_.in_memory && settings_.postgres_url.empty() && !factory_) ensure_parent_directory(settings_.database_path);
  auto writer_journal = factory();
  if (!writer_journal) return std::move(writer_journal.error());
  auto watch = open_watch(**writer_journal, settings_.follow_poll);
  if (!watch) return std::move(watch.error());
  auto reader_journal = factory();
  if (!reader_journal) return std::move(reader_journal.error());
  auto store = default_read_store(settings_, factory_ != nullptr)();
  if (!store) return std::move(store.error());
  auto store_journal = factory();  // durable read models catch up on it
  if (!store_journal) return std::move(store_journal.error());

  core->sys = sys_;
  core->owned_system = owned_system_;
  for (auto& kind : aggregates_) core->aggregate_types.insert(kind->type_name);
  core->settings = settings_;
  auto inbox = std::make_shared<detail::journal_inbox>();
  core->writer = spawn_journal_writer(*sys_, std::move(*writer_journal), inbox, settings_.max_batch,
                                      settings_.group_commit_wait);
  auto upcasters = std::make_shared<const upcaster_chain>(*upcasters_);
  core->reader = spawn_journal_reader(*sys_, std::move(*reader_journal), settings_.read_batch, upcasters);
  core->store = spawn_read_store_actor(*sys_, std::move(*store), std::move(*store_journal), settings_.read_batch,
                                       std::move(upcasters), core->store_stopping);
  aggregate_context ctx{core->writer, inbox, core->reader, settings_.journal_timeout, settings_.read_batch,
                        {settings_.snapshot_every, settings_.snapshot_keep}, settings_.passivate_after,
                        settings_.max_live_aggregates, settings_.conflict_retries, middleware_};
  // Middleware runs in the router, so then every command must pass it.
  if (middleware_.empty()) core->directory = std::make_shared<detail::aggregate_directory>();
  core->router = spawn_aggregate_router(*sys_, aggregates_, ctx, core->directory);
  core->client = spawn_client_actor(*sys_, core->router, core->directory, settings_.client_window,
                                    core->deadlines.get());
  for (auto p : projections_) {
    p = with_older_names(*p, *upcasters_);  // live events are passed over by these names
    auto progress = std::make_shared<detail::projection_progress>();
    if (auto process = processes_.find(p->type_name); process != processes_.end())
      start_process_driver(*core, *p, *process->second, progress);
    auto actor = spawn_projection_actor(*sys_, p, ctx, core->store, progress);
    core->projections.emplace(p->type_name, actor);
    core->progress.emplace_back(p->type_name, std::move(progress));
    for (auto& q : p->query_types) core->query_routes.emplace(q, actor);
  }
  if (*watch)
    core->follower = std::make_unique<detail::journal_follower>(
        std::move(*watch), settings_.follow_poll,
        [writer = core->writer](std::uint64_t head) { caf::anon_send(writer, head_atom::value, head); });
  return application{std::move(core)};
}

}  // namespace interlock
