-- One transaction up to RCPT; prints "rcpt reply=<letter>" (c continue, y reply code, t tempfail).
-- Globals from the runner: socket, client_ip, helo, from, rcpt.
local conn = mt.connect(socket, 40, 0.05)
if conn == nil then error("cannot connect to " .. socket) end
mt.macro(conn, SMFIC_CONNECT, "j", "mx.dnsguard.test", "{daemon_name}", "smtpd")
if mt.conninfo(conn, "unknown", client_ip) ~= nil then error("conninfo failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("connect: expected continue") end
if mt.helo(conn, helo or "client.test") ~= nil then error("helo failed") end
mt.getreply(conn)
if mt.mailfrom(conn, "<" .. (from or "alice@ok.test") .. ">") ~= nil then error("mail failed") end
mt.getreply(conn)
if mt.rcptto(conn, "<" .. (rcpt or "bob@dest.test") .. ">") ~= nil then error("rcpt failed") end
print("rcpt reply=" .. string.char(mt.getreply(conn)))
mt.disconnect(conn)
