-- A whole SMTP session as Postfix would send it: connect, HELO, MAIL (queue id not yet known),
-- RCPT (queue id known), end of message.  Every stage must continue.
-- Globals from the runner: socket, client_ip (default 127.0.0.7), helo.
local ip = client_ip or "127.0.0.7"
local conn = mt.connect(socket, 40, 0.05)
if conn == nil then error("cannot connect to " .. socket) end

mt.macro(conn, SMFIC_CONNECT, "j", "mx.dnsguard.test", "{daemon_name}", "smtpd")
if mt.conninfo(conn, "unknown", ip) ~= nil then error("conninfo failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("connect: expected continue") end

if mt.helo(conn, helo or "client.test") ~= nil then error("helo failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("helo: expected continue") end

if mt.mailfrom(conn, "<alice@ok.test>") ~= nil then error("mail failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("mail: expected continue") end

mt.macro(conn, SMFIC_RCPT, "i", "4QUEUEID7")
if mt.rcptto(conn, "<bob@dest.test>") ~= nil then error("rcpt failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("rcpt: expected continue") end

if mt.eom(conn) ~= nil then error("eom failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("eom: expected continue (accept)") end
mt.disconnect(conn)
