-- Opens a session and keeps it open for `seconds` (default 3), then finishes it: a session that
-- is in progress when dnsguard is told to stop.
local conn = mt.connect(socket, 40, 0.05)
if conn == nil then error("cannot connect to " .. socket) end
if mt.conninfo(conn, "unknown", "127.0.0.7") ~= nil then error("conninfo failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("connect: expected continue") end
mt.sleep(tonumber(seconds or 3))
if mt.helo(conn, "late.test") ~= nil then error("helo failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("helo: expected continue") end
mt.disconnect(conn)
