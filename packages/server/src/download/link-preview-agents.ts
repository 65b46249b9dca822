/**
 * User-Agent tokens of the programs that fetch a link on their own when it
 * is pasted somewhere (chat and social link previews) or crawl it (search
 * engines). None of them may take a download: they get the share page's
 * preview instead (docs/api.md, "Link previews").
 *
 * Where the tokens come from (each service's own crawler documentation, as
 * of 2025; keep this list in this one file and cite the source of any
 * addition):
 * - Slack: api.slack.com/robots ("Slackbot-LinkExpanding", "Slack-ImgProxy").
 * - X/Twitter: developer.x.com, Cards troubleshooting ("Twitterbot").
 * - Meta: developers.facebook.com/docs/sharing/webmasters/web-crawlers
 *   ("facebookexternalhit", "Facebot", "meta-externalagent"); WhatsApp's link
 *   preview guide ("WhatsApp/"). Apple's iMessage fetches previews with a
 *   Safari UA that adds "facebookexternalhit/1.1 Facebot Twitterbot/1.0";
 *   LINE adds "facebookexternalhit" too.
 * - Signal: its apps fetch previews themselves (through Signal's proxy) with
 *   "WhatsApp/2" (Signal-Desktop linkPreviewFetch.ts), so they match
 *   "WhatsApp/".
 * - Telegram: core.telegram.org ("TelegramBot"); Discord: "Discordbot";
 *   LinkedIn: "LinkedInBot"; Microsoft Teams and Skype: "SkypeUriPreview",
 *   and "MicrosoftPreview" (Teams and Outlook since 2023).
 * - Mastodon and other fediverse servers fetch previews with
 *   "http.rb/… (Mastodon/…)", "Pleroma", "Akkoma", "Misskey"; Bluesky with
 *   "Cardyb".
 * - Reddit: "redditbot"; Embedly: "Embedly"; Iframely: "Iframely";
 *   Pinterest: "Pinterestbot", "Pinterest/0." (its in-app browser says
 *   "[Pinterest/iOS]" and must stay a person); VK: "vkShare"; Snapchat:
 *   "Snap URL Preview"; Mattermost: "Mattermost-Bot".
 * - Search engines: "Googlebot", "Google-InspectionTool", "GoogleOther",
 *   "bingbot", "BingPreview", "Applebot", "DuckDuckBot", "YandexBot",
 *   "Baiduspider", "Slurp" (Yahoo).
 *
 * What cannot be told apart: a program that fetches with a browser's UA
 * (some mail link scanners, a preview fetched on the recipient's device by
 * a client that sends no token of its own). Such a fetch of `/d/:id` takes
 * a download; the share page (`/s/:id`) never does, whoever fetches it,
 * which is why it is the link to paste where such programs read.
 *
 * A general bot detector (the `isbot` package) does not fit: it counts curl,
 * wget and HTTP libraries as bots, and those are the direct link's users.
 */
const TOKENS = [
  'Slackbot',
  'Slack-ImgProxy',
  'Twitterbot',
  'facebookexternalhit',
  'Facebot',
  'meta-externalagent',
  'WhatsApp/',
  'TelegramBot',
  'Discordbot',
  'LinkedInBot',
  'SkypeUriPreview',
  'MicrosoftPreview',
  'Mastodon/',
  'Pleroma',
  'Akkoma',
  'Misskey',
  'Cardyb',
  'redditbot',
  'Embedly',
  'Iframely',
  'Pinterestbot',
  'Pinterest/0.',
  'vkShare',
  'Snap URL Preview',
  'Mattermost-Bot',
  'Googlebot',
  'Google-InspectionTool',
  'GoogleOther',
  'bingbot',
  'BingPreview',
  'Applebot',
  'DuckDuckBot',
  'YandexBot',
  'Baiduspider',
  'Slurp',
] as const;

const PATTERN = new RegExp(TOKENS.map((token) => token.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'), 'i');

/** Whether the User-Agent is a link-preview bot or a crawler (case-insensitive, anywhere in the header). */
export function isLinkPreviewAgent(userAgent: string | undefined): boolean {
  return userAgent !== undefined && PATTERN.test(userAgent);
}
