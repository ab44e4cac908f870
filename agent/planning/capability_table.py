"""What Storyloom's tools can and cannot do, as plain capability names with the words that ask for them.

`CAN` maps each capability the tools serve to the tools that serve it and the words (a regular
expression) of a request that asks for it; `CANNOT` lists what no tool does, with what to offer
instead. Both tables are read by `agent.planning.capabilities`, which checks a request against them
clause by clause (an unsupported clause wins over a supported word in the same clause: "remove the
background of the photo" is image editing, not a picture). Their `about` sentences are also what
the sentence-embedding model compares an unclear request with.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Capability:
    name: str
    pattern: re.Pattern
    about: str  # one sentence, for the embedding match and for people
    tools: tuple[str, ...] = ()
    instead: str = ""  # what Storyloom can offer in its place (CANNOT only)
    examples: tuple[str, ...] = ()  # more sentences for the embedding match

    def sentences(self) -> tuple[str, ...]:
        return (self.about, *self.examples)


def _re(pattern: str) -> re.Pattern:
    return re.compile(rf"\b(?:{pattern})", re.IGNORECASE)


_LANGS = (r"french|spanish|german|italian|portuguese|dutch|russian|chinese|mandarin|cantonese|japanese|korean|"
          r"arabic|hindi|turkish|polish|swedish|greek|hebrew|vietnamese|thai|swahili|ukrainian")
_MEDIA = r"picture|image|photo|illustration|poster|logo|portrait|drawing|painting|artwork|icon|cover|wallpaper"

CAN: tuple[Capability, ...] = (
    Capability("stories", _re(r"stor(?:y|ies)\b|fairy ?tale|fable|picture ?book|bedtime|once upon a time"),
               "Write and illustrate a short narrated story in scenes.", ("generate_image", "speak", "compose_story")),
    Capability("pictures", _re(rf"draw\w*|paint\w*|sketch\w*|illustrat\w*|(?:make|create|generate|produce|design|"
                               rf"render|want|need|give)\b[^.,;]{{0,50}}\b(?:{_MEDIA})s?\b"),
               "Draw or generate a picture, an illustration or a poster from a description.", ("generate_image",),
               examples=("a cosy cabin in a snowy forest at night", "a cat sleeping on a sunny windowsill",
                         "an old lighthouse on a cliff at sunset, watercolour", "a robot reading a book in a library",
                         "a bowl of ramen, studio lighting")),
    Capability("video clips", _re(r"animat\w*|(?:make|create|generate|produce|render|turn)\b[^.,;]{0,50}\b"
                                  r"(?:video|clip|animation|film|movie)s?\b|(?:video|clip) of\b"),
               "Generate a short video clip from a description or animate a picture.", ("generate_video",),
               examples=("waves crashing on the shore in slow pans",
                         "a hot air balloon rising over the hills, moving")),
    Capability("descriptions of pictures and videos",
               _re(r"caption\w*|describ\w*|descriptions?\b|alt[- ]?text|what(?:'s| is) (?:in|on|shown)|"
                   r"tell me what|what (?:happens|it shows)"),
               "Describe or caption a picture or a video in words.",
               ("caption_image", "caption_video", "describe_image")),
    Capability("speech", _re(r"aloud|read (?:it|this|that|out)|voice[- ]?over|narrat\w*|speak\w*|say\b|says\b|"
                             r"text[- ]to[- ]speech|spoken|tts\b|record (?:the|a) (?:phrase|sentence)"),
               "Read a text aloud as speech (English text to speech).", ("speak",)),
    Capability("transcription", _re(r"transcri\w*|speech[- ]to[- ]text|subtitles?\b|what (?:is|was) said|"
                                    r"write down what"),
               "Transcribe English speech in audio into text with timings and subtitles.", ("transcribe",)),
    Capability("reading text in pictures", _re(r"ocr\b|read the (?:text|words|sign|label)|"
                                               r"text (?:in|on) (?:the|this|my)|extract (?:the )?text|"
                                               r"what does (?:the|this) (?:sign|label) say"),
               "Read the printed words in a photo, a scan or a video (OCR).", ("ocr_image", "ocr_video")),
    Capability("naming objects in photos", _re(r"classif\w*|what (?:animal|object|kind of|breed|species)|"
                                               r"(?:identify|recogni[sz]e|name) the (?:object|animal|thing)s?"),
               "Name the main object in a photo (ImageNet classes).", ("classify_image",)),
    Capability("putting clips together", _re(r"slide ?shows?|montage|combin\w*|put\b[^.;]*?\btogether|assembl\w*|"
                                             r"into (?:one|a single) video|compos(?:e|ed) (?:a|the|them|it)"),
               "Put pictures, clips and narration together into one video.", ("compose_video",)),
    Capability("scores", _re(r"(?:how well|how closely) (?:does|do)|score (?:how|the)|word error rate|consisten\w*"),
               "Score how well a picture matches a prompt or how well speech matches a text.",
               ("clip_score", "caption_score", "identity_consistency", "narration_wer")),
)

_CAN_SPEAK = "transcribe English speech, describe a video, read a text aloud"
CANNOT: tuple[Capability, ...] = (
    Capability("noise reduction", _re(r"(?:background )?noise\b|noisy|denois\w*|hiss\w*|\bhum\b|clean up the "
                                      r"(?:audio|sound|recording)|remove (?:the )?(?:wind|static|crackl\w*)"),
               "Reduce background noise in an audio recording.", instead=_CAN_SPEAK),
    Capability("audio effects", _re(r"reverb\w*|echo\b|equali[sz]\w*|pitch[- ]?shift\w*|auto-?tune|distort\w*|"
                                    r"(?:audio|sound) effects?|bass boost|fade (?:in|out)|"
                                    r"normali[sz]\w* the (?:audio|volume)|"
                                    r"(?:change|adjust|increase|lower|raise|boost) the volume|louder|quieter|"
                                    r"(?:speed up|slow down) the (?:audio|song|voice|recording)"),
               "Add audio effects such as reverb or echo, or change pitch or volume.", instead=_CAN_SPEAK,
               examples=("make my recording sound like it was in a cathedral",)),
    Capability("translation", _re(rf"translat\w*|(?:into|to|in) (?:{_LANGS})\b(?!\s+(?:style|food|cuisine|garden))|"
                                  rf"(?:{_LANGS}) (?:version|subtitles?|voice)"),
               "Translate text or speech into another language.",
               instead="read English text aloud, transcribe English speech"),
    Capability("web search", _re(r"search (?:the )?(?:web|internet|online)|google\w*|look (?:it |this |that )?up "
                                 r"online|browse|on the internet|latest news|news (?:about|on)|stock price|"
                                 r"weather (?:forecast|in|for)"),
               "Search the web or look up facts online.", instead="work with the text and files you give me",
               examples=("what is the capital of Peru", "who won the match yesterday", "when does the shop open")),
    Capability("file search", _re(r"(?:find|search|locate|look for)\b[^.;]{0,40}\b(?:on|in|through) (?:my|the) "
                                  r"(?:computer|disk|drive|folders?|laptop|files)|search (?:my|the) (?:files|folders?|"
                                  r"drive|disk|computer)"),
               "Search files or folders on a computer.", instead="work with the files you send me"),
    Capability("downloads", _re(r"download\w*|https?://|www\.|youtube|(?:fetch|grab|get)\b[^.;]{0,30}\bfrom "
                                r"(?:the )?(?:web|url|link|site|internet)"),
               "Download files or videos from a link.", instead="work with the files you send me"),
    Capability("summaries of long text", _re(r"summar\w*|tl;?dr|sum (?:it |this |that )?up|key points|main points|"
                                             r"condense|shorten (?:the|this|my) (?:text|article|document|essay)"),
               "Summarise a long text, an article or a document.", instead="read a short text aloud"),
    Capability("music", _re(r"music\w*|songs?\b|melod\w*|soundtrack|jingle|\btune\b|beats?\b|instrumental|"
                            r"background track|lo-?fi|sing\b|singing|lyrics"),
               "Compose or generate music, a song or a soundtrack.",
               instead="make a narrated video from pictures or clips"),
    Capability("panoramas", _re(r"panoram\w*|360[- ]degree"),
               "Stitch photos into a panorama.", instead="draw one wide picture of the scene"),
    Capability("video stabilisation", _re(r"stabili[sz]\w*|shaky|shaking|jitter\w*"),
               "Stabilise shaky video footage.", instead="describe a video, make a new clip"),
    Capability("video editing", _re(r"trim\w*|cut (?:out|off|the|it|away)|(?:speed up|slow down|reverse) the (?:video|"
                                    r"clip|footage)|slow[- ]?motion|time-?lapse|transitions?\b|rotate|frame rate|fps\b|"
                                    r"watermark|(?:add|put|burn)\b[^.;]{0,30}\b(?:subtitles|text|title) "
                                    r"(?:on|onto|into) (?:the|my) (?:video|clip)|split (?:the|my|this) (?:video|clip)"),
               "Edit an existing video: trim, cut, rotate, change speed, add transitions or a watermark.",
               instead="make a new clip, describe a video, put clips together into one video"),
    Capability("photo editing", _re(r"crop\w*|resiz\w*|remove (?:the )?background|background remov\w*|retouch\w*|"
                                    r"colou?ri[sz]\w*|upscal\w*|sharpen\w*|blur (?:the|out|my|this|it)|"
                                    r"brighten\w*|inpaint\w*|erase\w*|"
                                    r"(?:remove|delete)\b[^.;]{0,40}\bfrom (?:the|this|my) (?:photo|image|picture)|"
                                    r"(?:change|replace) the (?:sky|background)|black and white|red[- ]eye|filters?\b|"
                                    r"super[- ]resolution|restore (?:the|this|my|an? old) (?:photo|image|picture)"),
               "Edit an existing photo: crop, resize, remove the background, colourise, upscale or retouch it.",
               instead="draw a new picture, describe a photo, read the text in a photo"),
    Capability("file conversion", _re(r"compress\w*|(?:to|into|as) (?:an? )?(?:mp3|wav|flac|ogg|gif|avi|mov|"
                                      r"mkv|webm|pdf|png|jpe?g|docx?)\b"),
               "Convert files between formats, compress them or extract a track.",
               instead="transcribe English speech, describe a video"),
    Capability("face recognition", _re(r"recogni[sz]\w* (?:the )?(?:faces?|people|person)|face recognition|who is "
                                       r"(?:this|that|in)|identify (?:the )?(?:person|people|faces?|speaker)"),
               "Recognise who a person or a speaker is.", instead="describe what a photo shows"),
    Capability("object counting", _re(r"count(?:s|ing)?\b|how many|detect\w*|bounding box\w*|segment\w*|"
                                      r"track (?:the|every)"),
               "Count or detect objects and draw boxes around them.", instead="name the main object in a photo"),
    Capability("writing documents", _re(r"(?:write|draft|compose)\b[^.;]{0,20}\b(?:essay|e-?mail|letter|poem|code|"
                                        r"program|article|blog post|report|cover letter|tweet|resume|cv)\b|python|"
                                        r"javascript|sql\b|spreadsheet|excel|charts?\b|graphs?\b|answer "
                                        r"(?:the|my|these) questions?|sentiment|keywords"),
               "Write documents, code or charts, or analyse text.", instead="write and illustrate a short story"),
    Capability("voice cloning", _re(r"clone\w*|in (?:my|his|her|their) (?:own )?voice|"
                                    r"sounds? like (?:me|him|her|them)|imitat\w*"),
               "Clone or imitate a particular person's voice.", instead="read a text aloud in a stock voice"),
    Capability("sending and posting", _re(r"(?:send|e-?mail|post|share|tweet|publish|upload)\b[^.;]{0,40}\b(?:to|on) "
                                          r"(?:twitter|facebook|instagram|tiktok|youtube|slack|whatsapp|my "
                                          r"(?:boss|team|friends?|account|channel))"),
               "Send, post or publish results to other services.", instead="save the results for you to download"),
    Capability("3D models", _re(r"3d\b|3-d\b|mesh|point cloud|cad\b"),
               "Make 3D models or meshes.", instead="draw a picture of the object"),
)
