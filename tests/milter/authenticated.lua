-- An SMTP AUTH session as Postfix passes it: {auth_authen} at MAIL.  Prints the reply letter to
-- each RCPT as "rcpt <address> reply=<letter>" (c = continue, r = reject, t = tempfail) and the
-- reply text of rejections.
-- Globals from the runner: socket, client_ip, from, rcpt1, rcpt2 (rcpt2 optional).
local conn = mt.connect(socket, 40, 0.05)
if conn == nil then error("cannot connect to " .. socket) end
mt.macro(conn, SMFIC_CONNECT, "j", "mx.dnsguard.test", "{daemon_name}", "ORIGINATING")
if mt.conninfo(conn, "unknown", client_ip) ~= nil then error("conninfo failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("connect: expected continue") end
if mt.helo(conn, "laptop") ~= nil then error("helo failed") end
mt.getreply(conn)
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "alice", "{auth_type}", "PLAIN")
if mt.mailfrom(conn, "<" .. from .. ">") ~= nil then error("mail failed") end
print("mail reply=" .. string.char(mt.getreply(conn)))
for _, r in ipairs({rcpt1, rcpt2}) do
  if r ~= nil and r ~= "" then
    if mt.rcptto(conn, "<" .. r .. ">") ~= nil then error("rcpt failed") end
    local reply = mt.getreply(conn)
    print("rcpt " .. r .. " reply=" .. string.char(reply))
  end
end
mt.disconnect(conn)
