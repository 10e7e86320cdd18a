#!/usr/bin/env python3
"""A minimal SMTP server for the load scripts: accepts every message and writes each one to
DIR as a file (NNNNNN.eml, the RCPT TO addresses on the first line), so that a script can
follow the confirmation link the service mails, as a person would.

    smtp_sink.py PORT DIR
"""
import asyncio
import os
import sys


async def session(reader, writer, directory, counter):
    async def say(line):
        writer.write(line.encode() + b"\r\n")
        await writer.drain()

    await say("220 sink.localhost ESMTP")
    recipients = []
    while True:
        raw = await reader.readline()
        if not raw:
            break
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        upper = line.upper()
        if upper.startswith("EHLO"):
            writer.write(b"250-sink.localhost\r\n250 8BITMIME\r\n")
            await writer.drain()
        elif upper.startswith(("HELO", "MAIL FROM", "NOOP")):
            await say("250 OK")
        elif upper.startswith("RSET"):
            recipients = []
            await say("250 OK")
        elif upper.startswith("RCPT TO"):
            recipients.append(line[8:].strip().lstrip(":").strip().strip("<>"))
            await say("250 OK")
        elif upper == "DATA":
            await say("354 go ahead")
            data = []
            while True:
                raw = await reader.readline()
                if not raw:
                    return
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                if text == ".":
                    break
                data.append(text[1:] if text.startswith(".") else text)
            counter[0] += 1
            name = os.path.join(directory, "%06d.eml" % counter[0])
            with open(name + ".part", "w") as out:
                out.write(" ".join(recipients) + "\n" + "\n".join(data) + "\n")
            os.rename(name + ".part", name)
            recipients = []
            await say("250 queued")
        elif upper.startswith("QUIT"):
            await say("221 bye")
            break
        else:
            await say("502 not implemented")
    writer.close()


async def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    counter = [0]
    server = await asyncio.start_server(
        lambda r, w: session(r, w, directory, counter), "127.0.0.1", port
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
