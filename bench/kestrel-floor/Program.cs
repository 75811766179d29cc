// The floor of a Kestrel index on this machine: the same web server and runtime as Builder (workstation GC, Kestrel's
// defaults), no middleware, no routing, no access check, answering every request with one fixed page of
// FLOOR_BODY_BYTES bytes (default 12,256: Builder's mean project page on the large data set). bench/floor-bench.sh
// measures it beside nginx and Builder.
var size = int.Parse(Environment.GetEnvironmentVariable("FLOOR_BODY_BYTES") ?? "12256", System.Globalization.CultureInfo.InvariantCulture);
var body = new byte[size];
Array.Fill(body, (byte)'a');
var builder = WebApplication.CreateSlimBuilder(args);
// FLOOR_INLINE=1: Kestrel's inline scheduling, as Builder:Http:InlineScheduling sets it.
builder.WebHost.UseSockets(options => options.UnsafePreferInlineScheduling = Environment.GetEnvironmentVariable("FLOOR_INLINE") == "1");
builder.Logging.ClearProviders();
var app = builder.Build();
app.Run(context =>
{
    context.Response.ContentType = "text/html; charset=utf-8";
    context.Response.ContentLength = body.Length;
    return context.Response.Body.WriteAsync(body).AsTask();
});
app.Run();
