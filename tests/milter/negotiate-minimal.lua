-- An MTA that offers no actions and lets the filter skip no step: dnsguard must ask only for
-- what is offered, else libmilter refuses the session at negotiation.  (miltertest then will
-- not send header or body steps itself, so the script goes from RCPT to end of message.)
local conn = mt.connect(socket, 40, 0.05)
if conn == nil then error("cannot connect to " .. socket) end
if mt.negotiate(conn, 6, 0, 0) ~= nil then error("negotiate failed") end
if mt.conninfo(conn, "unknown", "127.0.0.7") ~= nil then error("conninfo failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("connect: expected continue") end
if mt.helo(conn, "client.test") ~= nil then error("helo failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("helo: expected continue") end
if mt.mailfrom(conn, "<alice@ok.test>") ~= nil then error("mail failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("mail: expected continue") end
if mt.rcptto(conn, "<bob@dest.test>") ~= nil then error("rcpt failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("rcpt: expected continue") end
if mt.eom(conn) ~= nil then error("eom failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("eom: expected continue (accept)") end
mt.disconnect(conn)
