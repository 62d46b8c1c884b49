"""A real MCP client (the Python `mcp` SDK, not chronus's code) driving `chronus mcp`.

Usage: python client.py CHRONUS_BINARY OSC_PORT
Starts `chronus mcp --port OSC_PORT` over stdio, lists tools and resources, plays a note on the
running chronus, tries a bad parameter, renders a preview, and prints one JSON object with what
it saw (the Rust test checks it, and the recording).
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def main(binary, port):
    params = StdioServerParameters(command=binary, args=["mcp", "--port", port])
    seen = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            seen["server"] = init.server_info.name
            tools = (await session.list_tools()).tools
            seen["tools"] = sorted(t.name for t in tools)
            set_param = next(t for t in tools if t.name == "set_param")
            seen["set_param_schema"] = set_param.input_schema
            resources = (await session.list_resources()).resources
            seen["resources"] = sorted(str(r.uri) for r in resources)
            osc = await session.read_resource("chronus://osc")
            seen["osc_doc_has_note_on"] = "/note/on" in osc.contents[0].text
            patch = await session.read_resource("chronus://patch")
            seen["patch"] = json.loads(patch.contents[0].text)

            status = await session.call_tool("status", {})
            seen["status"] = json.loads(text_of(status))
            # A note: A4 for 0.6 s, then released.
            on = await session.call_tool("note_on", {"note": "A4", "velocity": 1.0})
            seen["note_on"] = {"error": on.is_error, "text": text_of(on)}
            await asyncio.sleep(0.6)
            off = await session.call_tool("note_off", {})
            seen["note_off_error"] = off.is_error
            # A value out of range is clamped, and the answer says so.
            clamp = await session.call_tool(
                "set_param", {"module": "filter", "param": "cutoff", "value": 1e9}
            )
            seen["clamped"] = json.loads(text_of(clamp))
            # chronus's own refusal comes back as a tool error with its message.
            bad = await session.call_tool("gate", {"module": "nosuch", "on": True})
            seen["bad_gate"] = {"error": bad.is_error, "text": text_of(bad)}
            got = await session.call_tool("get_param", {"module": "filter", "param": "cutoff"})
            seen["cutoff"] = json.loads(text_of(got))
            said = await session.call_tool("say", {"text": "blorp the zoink"})
            seen["say_not_understood"] = {"error": said.is_error, "text": text_of(said)}
            # A bus taking a send from the pan at 0.3, to the output; a level out of range is
            # refused whole.
            bus = await session.call_tool(
                "patch",
                {
                    "edits": [
                        {"op": "create", "id": "verb", "type": "bus"},
                        {"op": "connect", "from": "pan", "to": "verb", "level": 0.3},
                        {"op": "connect", "from": "verb", "to": "out"},
                    ]
                },
            )
            seen["bus"] = {"error": bus.is_error, "text": text_of(bus)}
            loud = await session.call_tool(
                "patch",
                {"edits": [{"op": "connect", "from": "pan", "to": "verb", "level": 5}]},
            )
            seen["bad_level"] = {"error": loud.is_error, "text": text_of(loud)}
            preview = await session.call_tool(
                "render_preview",
                {"score": "0 /mod/sine/freq 330\n0.1 /gate/adsr on\n1.1 /gate/adsr off\n"},
            )
            seen["preview"] = json.loads(text_of(preview))
    print(json.dumps(seen))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
