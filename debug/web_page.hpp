// The web view's one page (`serve`, GET /): plain HTML with its CSS and
// JavaScript inline, no build step, compiled into the console as a string.
// It reads only web_api.hpp's JSON API: the streams, a stream's events with
// the state after each (the changed fields highlighted: added, changed, and
// the removed ones listed), and a search by id. Its address says what it
// shows, so a view can be linked and reloaded: ?type=T&id=I (a stream,
// &from=V its later events, &position=P one event marked), &q=TEXT (a search).
// Internal.
#pragma once

#include <string_view>

namespace interlock::debug::detail {

/// The page's HTML text (UTF-8).
std::string_view web_page();

}  // namespace interlock::debug::detail
