export { ECHO_NAME_HEADER, type EchoOptions, type EchoServer, startEcho } from "./echo-server.ts";
