// Everything a user of Interlock needs: aggregates, commands and queries,
// projections, the application builder, errors and ids. The test kit for
// aggregates is for tests only: <interlock/runtime/aggregate_test.hpp>.
#pragma once

#include <interlock/core/errors.hpp>
#include <interlock/core/event_envelope.hpp>
#include <interlock/core/log.hpp>
#include <interlock/model/middleware.hpp>
#include <interlock/runtime/aggregate.hpp>
#include <interlock/runtime/application.hpp>
#include <interlock/runtime/application_builder.hpp>
#include <interlock/runtime/as_of.hpp>
#include <interlock/runtime/command.hpp>
#include <interlock/runtime/context.hpp>
#include <interlock/runtime/json_fields.hpp>
#include <interlock/runtime/processor.hpp>
#include <interlock/runtime/receipt.hpp>
#include <interlock/runtime/rejected.hpp>
#include <interlock/runtime/saga.hpp>
#include <interlock/runtime/system_config.hpp>
#include <interlock/runtime/types.hpp>
#include <interlock/runtime/ulid.hpp>
