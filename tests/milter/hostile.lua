-- A session in which every field dnsguard may log carries hostile bytes: CR, LF, bytes next to
-- NUL (0x01), ESC, quotes, '=', backslash and 8-bit bytes, in the client's host name, the daemon
-- name, HELO, MAIL FROM, the SASL login, RCPT, the queue id and header values.  (NUL itself
-- ends a string in the milter protocol.)  Every stage must be served; the test reads the log.
-- Globals from the runner: socket, client_ip; auth=no sends no SASL login (a logged-in client
-- skips the client and HELO checks).
local bad = "\r\nFAKE: x=\"y\" \1\27[31m\\\195\169="
local conn = mt.connect(socket, 40, 0.05)
if conn == nil then error("cannot connect to " .. socket) end

mt.macro(conn, SMFIC_CONNECT, "j", "mx.dnsguard.test", "{daemon_name}", "d" .. bad)
if mt.conninfo(conn, "host" .. bad, client_ip) ~= nil then error("conninfo failed") end
print("connect reply=" .. string.char(mt.getreply(conn)))

if mt.helo(conn, "helo" .. bad) ~= nil then error("helo failed") end
print("helo reply=" .. string.char(mt.getreply(conn)))

if auth ~= "no" then mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "user" .. bad) end
if mt.mailfrom(conn, "<from" .. bad .. "@ok.test>") ~= nil then error("mail failed") end
print("mail reply=" .. string.char(mt.getreply(conn)))

mt.macro(conn, SMFIC_RCPT, "i", "Q" .. bad)
if mt.rcptto(conn, "<to" .. bad .. "@dest.test>") ~= nil then error("rcpt failed") end
local reply = mt.getreply(conn)
print("rcpt reply=" .. string.char(reply))
if reply == SMFIR_CONTINUE then
  if mt.header(conn, "Authentication-Results", "other.example" .. bad .. "; iprev=pass") ~= nil then
    error("header failed")
  end
  if mt.header(conn, "Subject", bad) ~= nil then error("header failed") end
  if mt.eom(conn) ~= nil then error("eom failed") end
  print("eom reply=" .. string.char(mt.getreply(conn)))
end
mt.disconnect(conn)
