using Markdig;
using Markdig.Helpers;
using Markdig.Parsers;
using Markdig.Renderers;

namespace Builder.Web.Ui;

/// <summary>
/// Makes Markdig's parsing stop when a token is cancelled. Markdig takes no cancellation token, and some inputs cost it
/// time quadratic in their length (<c>"[a]("</c> repeated: each <c>]</c> scans the rest of the paragraph for its link's end;
/// runs of unmatched brackets or emphasis). A parser that never matches is tried first at every position where an inline
/// parser would be tried (before each special character and each run of plain text), and throws
/// <see cref="OperationCanceledException"/> once the token of the <see cref="Context"/> it parses in is cancelled: the
/// work stops within one inline step (one scan of a paragraph), not after the whole document. The block phase before
/// it has no such step; its work grows with the nesting, which Markdig's depth limit ends (100,000 nested quotes: about
/// half a second), and with the length, which <see cref="DescriptionRenderer.MaxMarkdownChars"/> bounds.
/// </summary>
internal sealed class MarkdownTimeLimit : IMarkdownExtension
{
    /// <summary>The parse's token; a parse without this context runs without a limit.</summary>
    public sealed class Context(CancellationToken cancellationToken) : MarkdownParserContext
    {
        public CancellationToken CancellationToken => cancellationToken;
    }

    public void Setup(MarkdownPipelineBuilder pipeline)
    {
        // Before every other parser of each opening character, and among the parsers tried for plain text.
        var openingCharacters = pipeline.InlineParsers.SelectMany(p => p.OpeningCharacters ?? []).Distinct().ToArray();
        pipeline.InlineParsers.Insert(0, new Checkpoint { OpeningCharacters = openingCharacters });
        pipeline.InlineParsers.Add(new Checkpoint());
    }

    public void Setup(MarkdownPipeline pipeline, IMarkdownRenderer renderer)
    {
    }

    private sealed class Checkpoint : InlineParser
    {
        public override bool Match(InlineProcessor processor, ref StringSlice slice)
        {
            (processor.Context as Context)?.CancellationToken.ThrowIfCancellationRequested();
            return false;
        }
    }
}
