-- Connects and reports the reply to the connect step as "connect-reply=<letter>".
local conn = mt.connect(socket, 40, 0.05)
if conn == nil then error("cannot connect to " .. socket) end
if mt.conninfo(conn, "unknown", client_ip or "127.0.0.7") ~= nil then error("conninfo failed") end
print("connect-reply=" .. string.char(mt.getreply(conn)))
mt.disconnect(conn)
