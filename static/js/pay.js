// The payment page: Stripe.js reads the card in its own element and turns it into a token;
// the server charges the order's total with it (never a figure from this page).
(function () {
  const form = document.getElementById("pay-form");
  const status = document.getElementById("pay-status");
  const button = document.getElementById("pay-button");
  const stripe = Stripe(form.dataset.key);
  const card = stripe.elements().create("card");
  card.mount("#card");

  function say(text) {
    status.textContent = text;
    status.hidden = false;
    button.disabled = false;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    button.disabled = true;
    say("Paying…");
    button.disabled = true;
    const tokenised = await stripe.createToken(card);
    if (tokenised.error) {
      say(tokenised.error.message || "Your card could not be read: check it and try again.");
      return;
    }
    const body = new FormData(form);
    body.append("token", tokenised.token.id);
    let answer;
    try {
      const response = await fetch(form.action, {method: "POST", body: body, credentials: "same-origin"});
      answer = await response.json();
    } catch (error) {
      say("The shop did not answer: nothing was charged. Try again.");
      return;
    }
    if (answer.status === "requires_action") {
      const confirmed = await stripe.confirmCardPayment(answer.client_secret);
      if (confirmed.error) {
        say(confirmed.error.message || "Your bank did not confirm the payment: try again.");
        return;
      }
    } else if (answer.error) {
      say(answer.error);
      if (!answer.next || answer.status) return;
    }
    window.location.assign(answer.next);
  });
})();
