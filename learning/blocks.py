"""StreamField blocks for lecture pages: what an organizer can put in a lecture body."""

from django.core.exceptions import ValidationError
from django.forms.utils import ErrorList
from django.utils.translation import gettext_lazy as _

from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageChooserBlock


class HeadingBlock(blocks.CharBlock):
    """A section heading inside a lecture (rendered as h2)."""

    class Meta:
        template = "learning/blocks/heading_block.html"
        icon = "title"
        label = _("Heading")
        description = _("A section heading")
        form_classname = "title"


class LawArticleBlock(blocks.StructBlock):
    """A quoted law article with its citation, e.g. 《中华人民共和国保密法》第九条."""

    text = blocks.TextBlock(label=_("article text"))
    citation = blocks.CharBlock(
        label=_("citation"), max_length=200, help_text=_("Law and article, e.g. Civil Code art. 1")
    )

    class Meta:
        template = "learning/blocks/law_article_block.html"
        icon = "openquote"
        label = _("Law article")
        description = _("Quotation of a law article with its citation")


class ImageBlock(blocks.StructBlock):
    """An image shown at phone width, with an optional caption."""

    image = ImageChooserBlock(label=_("image"))
    caption = blocks.CharBlock(label=_("caption"), required=False, max_length=200)

    class Meta:
        template = "learning/blocks/image_block.html"
        icon = "image"
        label = _("Image")
        description = _("An image with an optional caption")


class VideoBlock(blocks.StructBlock):
    """A lecture video: an uploaded file (Wagtail document), a media URL on the
    organisation's own video server, or an embed. Exactly one source is required."""

    document = DocumentChooserBlock(
        label=_("video file"), required=False, help_text=_("An uploaded MP4 file")
    )
    url = blocks.URLBlock(
        label=_("media URL"), required=False, help_text=_("Address of an MP4 or WebM file")
    )
    embed = EmbedBlock(label=_("embed"), required=False, help_text=_("A video platform link"))
    poster = ImageChooserBlock(label=_("poster image"), required=False)
    caption = blocks.CharBlock(label=_("caption"), required=False, max_length=200)

    class Meta:
        template = "learning/blocks/video_block.html"
        icon = "media"
        label = _("Video")
        description = _("A video file, media URL or embed; the study timer notes when it ends")

    def clean(self, value):
        value = super().clean(value)
        sources = [name for name in ("document", "url", "embed") if value.get(name)]
        if len(sources) != 1:
            message = _("Choose exactly one source: a video file, a media URL or an embed.")
            raise blocks.StructBlockValidationError(
                block_errors={"document": ErrorList([ValidationError(message)])}
            )
        return value


class DocumentBlock(blocks.StructBlock):
    """Slides, handouts or a 明白纸 summary to download."""

    document = DocumentChooserBlock(label=_("document"))
    title = blocks.CharBlock(label=_("link text"), required=False, max_length=200)

    class Meta:
        template = "learning/blocks/document_block.html"
        icon = "doc-full"
        label = _("Download")
        description = _("Slides or a handout to download")


class LectureBodyBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        label=_("Text"),
        features=["h3", "bold", "italic", "ol", "ul", "link", "document-link"],
        template="learning/blocks/paragraph_block.html",
        icon="pilcrow",
        description=_("Rich text"),
    )
    law_article = LawArticleBlock()
    image = ImageBlock()
    video = VideoBlock()
    document = DocumentBlock()
